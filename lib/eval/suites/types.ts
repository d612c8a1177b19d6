// The shape of a benchmark suite task, modelled on an lm-evaluation-harness task config (the YAML
// fields are named in comments), so a task definition here reads side by side with the harness's.

/** One dataset row, as the Hub's parquet/json files give it (ints as numbers). */
export type Doc = Record<string, unknown>;

/** Where a task's documents live on the Hub: `dataset_path`, `dataset_name` and the revision. */
export type DatasetRef = { path: string; name: string | null; revision: string };

/** lm-eval's `output_type: multiple_choice`: one log-likelihood request per choice. */
export type MultipleChoiceTaskDef = {
  kind: 'multiple_choice';
  /** `task` */
  name: string;
  /** `task_alias` (lm-eval prints it in tables). */
  alias?: string;
  /** `metadata.version` */
  version: number | string;
  dataset: DatasetRef;
  /** `training_split`, `validation_split`, `test_split`, `fewshot_split` */
  splits: { training?: string; validation?: string; test?: string; fewshot?: string };
  /** `fewshot_config.sampler`: `default` draws with Random(seed).sample, `first_n` takes the first n. */
  sampler: 'default' | 'first_n';
  /** `description`: put before the demonstrations (MMLU's "The following are ... about X.\n\n"). */
  description: string;
  targetDelimiter: string;
  fewshotDelimiter: string;
  /** `process_docs` (hellaswag). */
  processDocs?: (doc: Doc) => Doc;
  /** `doc_to_text`; a number means "multiple inputs" (winogrande): the index of the right context. */
  docToText: (doc: Doc) => string | number;
  /** `doc_to_choice`: the continuations, or for multiple inputs the contexts. */
  docToChoice: (doc: Doc) => string[];
  /** `doc_to_target`: the right choice's index, or for multiple inputs the shared continuation. */
  docToTarget: (doc: Doc) => number | string;
  /** `metric_list` (all aggregated by mean, higher is better). */
  metrics: Array<'acc' | 'acc_norm'>;
  /** The YAML's own text for doc_to_text / doc_to_target / doc_to_choice, shown in results.configs. */
  yaml: { doc_to_text: string; doc_to_target: string; doc_to_choice: string | string[]; process_docs?: string };
  /** `tag` / group membership (for the results' configs). */
  tag?: string;
};

/** A group of tasks whose scores lm-eval aggregates (`aggregate_metric_list` with weight_by_size). */
export type GroupDef = {
  name: string;
  alias?: string;
  version: number | string;
  /** Child task or group names. */
  children: string[];
  /** Metrics aggregated over the leaf tasks, weighted by their number of documents. */
  metrics: Array<'acc' | 'acc_norm'>;
  weightBySize: boolean;
  /** Also report `average`: the unweighted mean of each leaf task's (first) metric. */
  average?: boolean;
};
