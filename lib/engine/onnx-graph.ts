// A small ONNX graph builder over `onnx-proto` (the ONNX protobuf schema as JavaScript): nodes,
// initializers, typed inputs and outputs, and the model bytes. Enough to write the kit's own
// models from weights; op types and opset versions are plain strings and numbers, so any opset
// that ONNX Runtime accepts can be written (env/engines.md, "Facts the engine relies on").

import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
type IValueInfoProto = OnnxTypes.IValueInfoProto;
type ITensorProto = OnnxTypes.ITensorProto;
type INodeProto = OnnxTypes.INodeProto;

export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
export type ElemType = (typeof DataType)[keyof typeof DataType];

/** A dimension: a fixed size, or a symbolic name such as `batch_size`. */
export type Dim = number | string;

export type AttrValue = { i: number } | { f: number } | { ints: number[] } | { s: string };

function attribute(name: string, v: AttrValue): OnnxTypes.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if ('i' in v) return { name, type: A.INT, i: v.i };
  if ('f' in v) return { name, type: A.FLOAT, f: v.f };
  if ('ints' in v) return { name, type: A.INTS, ints: v.ints };
  return { name, type: A.STRING, s: new TextEncoder().encode(v.s) };
}

/** Where an initializer's bytes live when they are kept outside the .onnx file (ONNX external data). */
export type ExternalData = { location: string; offset: number; length: number };

function bytesOf(a: Float32Array | BigInt64Array | Uint8Array | Uint16Array): Uint8Array {
  // ONNX raw_data is little-endian, as are typed arrays on every platform Node supports.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class GraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private readonly domains = new Set<string>();
  private counter = 0;

  /** Adds a node; returns its output names (generated unless given). `domain:Op` names a contrib op, e.g. `com.microsoft:MatMulNBits`. */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs: number | string[] = 1,
  ): string[] {
    const colon = opType.lastIndexOf(':');
    const domain = colon < 0 ? '' : opType.slice(0, colon);
    const type = opType.slice(colon + 1);
    if (domain) this.domains.add(domain);
    const outs =
      typeof outputs === 'number' ? Array.from({ length: outputs }, () => `/${type}_${this.counter++}`) : outputs;
    this.nodes.push({
      opType: type,
      ...(domain ? { domain } : {}),
      input: inputs,
      output: outs,
      name: `${type}_${this.counter++}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** A node with one output. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.op(opType, inputs, attrs, output === undefined ? 1 : [output])[0];
  }

  /** A tensor stored in the graph; a Uint16Array holds float16 bit patterns, a Uint8Array bytes (uint8). */
  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array | Uint16Array | Uint8Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new Error(`initializer ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    const dataType =
      data instanceof Float32Array
        ? DataType.FLOAT
        : data instanceof BigInt64Array
          ? DataType.INT64
          : data instanceof Uint16Array
            ? DataType.FLOAT16
            : DataType.UINT8;
    this.initializers.push({ name, dataType, dims, rawData: bytesOf(data) });
    return name;
  }

  /** A tensor whose bytes live in an external data file beside the model (for models over protobuf's 2 GiB). */
  externalInitializer(name: string, dataType: ElemType, dims: number[], data: ExternalData): string {
    this.initializers.push({
      name,
      dataType,
      dims,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: data.location },
        { key: 'offset', value: String(data.offset) },
        { key: 'length', value: String(data.length) },
      ],
    });
    return name;
  }

  /** A shared float constant (scalar unless dims given). */
  f32(values: number[], dims: number[] = []): string {
    return this.constant('f', values, dims, () => Float32Array.from(values));
  }

  /** A shared int64 constant (scalar unless dims given). */
  i64(values: number[], dims: number[] = [values.length]): string {
    return this.constant('i', values, dims, () => BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  private constant(kind: string, values: number[], dims: number[], make: () => Float32Array | BigInt64Array): string {
    const key = `${kind}:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = `const_${kind}_${this.constants.size}`;
    this.initializer(name, dims, make());
    this.constants.set(key, name);
    return name;
  }

  input(name: string, elemType: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: ElemType, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The serialised model. IR 8 + opset 17 is what the kit writes and ONNX Runtime 1.30 runs. */
  toBytes(meta: {
    graphName: string;
    opset?: number;
    irVersion?: number;
    producer?: string;
    docString?: string;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: meta.irVersion ?? 8,
      producerName: meta.producer ?? 'ipt-kit',
      docString: meta.docString ?? '',
      opsetImport: [
        { domain: '', version: meta.opset ?? 17 },
        ...[...this.domains].map((domain) => ({ domain, version: 1 })),
      ],
      graph: onnx.GraphProto.create({
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    const err = onnx.ModelProto.verify(model);
    if (err) throw new Error(`invalid ONNX model: ${err}`);
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elemType: ElemType, dims: Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** The float32 initializers of an ONNX model, by name (other types are skipped). */
export function readOnnxInitializers(bytes: Uint8Array): Record<string, { dims: number[]; data: Float32Array }> {
  const model = onnx.ModelProto.decode(bytes);
  const out: Record<string, { dims: number[]; data: Float32Array }> = {};
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT || !t.name) continue;
    const dims = (t.dims ?? []).map(Number);
    let data: Float32Array;
    if (t.rawData && t.rawData.length > 0) {
      const raw = t.rawData;
      data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    } else {
      data = Float32Array.from(t.floatData ?? []);
    }
    out[t.name] = { dims, data };
  }
  return out;
}

/**
 * For an Optimum decoder whose every `present.{i}.{key,value}` output is
 * `Concat(past_key_values.{i}.{key,value}, newRows, axis = 2)`, returns the same model with the
 * new rows also exposed as outputs `present_rows.{i}.{key,value}` (one Identity node each; nothing
 * else changes). A caller that fetches these instead of `present.*` gets O(batch) bytes per step
 * instead of the whole cache. Returns undefined when the graph does not have that shape (merged
 * decoders with If nodes, fused attention ops that own the cache, external data).
 */
export function exposeNewCacheRows(
  bytes: Uint8Array,
): { bytes: Uint8Array; names: Record<string, string> } | undefined {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) return undefined;
  if ((graph.initializer ?? []).some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL))
    return undefined;
  const producer = new Map<string, OnnxTypes.INodeProto>();
  for (const node of graph.node ?? []) for (const out of node.output ?? []) producer.set(out, node);
  const names: Record<string, string> = {};
  const added: OnnxTypes.INodeProto[] = [];
  const outputs: IValueInfoProto[] = [];
  for (const out of graph.output ?? []) {
    const m = /^present\.(\d+)\.(key|value)$/.exec(out.name ?? '');
    if (!m) continue;
    const node = producer.get(out.name!);
    const axis = node?.attribute?.find((a) => a.name === 'axis')?.i;
    const past = `past_key_values.${m[1]}.${m[2]}`;
    if (
      !node ||
      node.opType !== 'Concat' ||
      node.input?.length !== 2 ||
      node.input[0] !== past ||
      !(Number(axis) === 2 || Number(axis) === -2)
    )
      return undefined;
    const rows = `present_rows.${m[1]}.${m[2]}`;
    added.push({ opType: 'Identity', input: [node.input[1]], output: [rows], name: `expose_${rows}` });
    outputs.push({ name: rows, type: { tensorType: { elemType: out.type?.tensorType?.elemType } } });
    names[out.name!] = rows;
  }
  if (outputs.length === 0) return undefined;
  graph.node = [...(graph.node ?? []), ...added];
  graph.output = [...(graph.output ?? []), ...outputs];
  return { bytes: onnx.ModelProto.encode(model).finish(), names };
}
