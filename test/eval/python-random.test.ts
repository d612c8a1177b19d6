// The Python-compatible generator against CPython itself: every expected value below was printed by
// CPython 3 (`python3 -c "import random; r = random.Random(1234); ..."`), an independent implementation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PythonRandom } from '../../lib/eval/suites/python-random.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("Random(1234).getrandbits(32) gives CPython's words", () => {
  const r = new PythonRandom(1234);
  assert.deepEqual([r.getrandbits(32), r.getrandbits(32), r.getrandbits(32)], [4150886329, 3342196574, 1892932127]);
});

test('seeds wider than 32 bits and negative seeds are seeded as CPython seeds them', () => {
  assert.equal(new PythonRandom(2 ** 40 + 7).getrandbits(32), 2635837658);
  assert.equal(new PythonRandom(-5).getrandbits(32), 2675342405);
});

test('random() matches CPython', () => {
  const r = new PythonRandom(0);
  assert.equal(r.random(), 0.8444218515250481);
  assert.equal(r.random(), 0.7579544029403025);
});

test('sample uses the pool method for small populations and the set method for large ones, with state carried over', () => {
  const a = new PythonRandom(1234);
  assert.deepEqual(a.sample(range(10), 3), [7, 1, 0]);
  assert.deepEqual(a.sample(range(10), 3), [1, 0, 9]);
  const b = new PythonRandom(1234);
  assert.deepEqual(b.sample(range(1000), 5), [989, 796, 451, 119, 7]);
  assert.deepEqual(
    b.sample(range(1000), 26),
    [
      92, 932, 965, 961, 826, 596, 35, 687, 709, 85, 100, 784, 363, 242, 17, 31, 807, 16, 354, 663, 638, 495, 630, 474,
      152, 93,
    ],
  );
  assert.deepEqual(
    b.sample(range(30), 26),
    [5, 22, 3, 0, 16, 15, 7, 2, 21, 17, 14, 28, 18, 25, 1, 4, 13, 8, 24, 10, 19, 23, 29, 20, 11, 12],
  );
});

test('sample refuses k larger than the population', () => {
  assert.throws(() => new PythonRandom(1).sample([1, 2], 3), /larger than population/);
});
