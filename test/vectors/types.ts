// Shapes of the protocol test-vector files (test/vectors/<operation>.json) and of a checker's
// verdicts. Shared by the generator, the runner and both checkers so that they agree on one format;
// the fields of each operation's cases are described in test/vectors/README.md.

/** The operations that have a vector file, in the order of docs/PROTOCOL.md. */
export const VECTOR_OPERATIONS = [
  'identity',
  'fingerprint',
  'room-key',
  'membership',
  'message',
  'backup',
  'attachment',
  'device-seal',
] as const;

export type VectorOperation = (typeof VECTOR_OPERATIONS)[number];

/** One case: hex byte strings, JSON numbers and text, as listed per file in the README. */
export interface VectorCase {
  id: number;
  comment: string;
  result: 'valid' | 'invalid';
  /** The exact failure code an invalid case must be rejected with. */
  error?: string;
  [field: string]: unknown;
}

export interface VectorFile {
  operation: string;
  protocol: 'parley/v1';
  description: string;
  generatedBy: string;
  cases: VectorCase[];
}

/**
 * A checker's verdict on one case: `ok` when a valid case was accepted with every expected output
 * reproduced, or an invalid case was rejected with exactly its `error` code.
 */
export interface CaseResult {
  id: number;
  ok: boolean;
  detail?: string;
}

/** What each implementation under test exports to the runner. */
export type VectorChecker = (operation: string, file: VectorFile) => Promise<CaseResult[]>;
