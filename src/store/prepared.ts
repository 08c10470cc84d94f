import type { CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';
import type { Database } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A query built and compiled once, run many times with new parameters. On
 * the hot paths (recording and looking up tokens) building and compiling
 * the query cost more than running it; the SQL never changes, only the
 * values, so only the values are replaced. The builder's placeholder values
 * fix the parameters' order.
 */
export class PreparedQuery<R> {
  private readonly compiled: CompiledQuery<R>;

  constructor(compiled: CompiledQuery<R>) {
    this.compiled = compiled;
  }

  run(db: Executor, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    return db.executeQuery<R>({ ...this.compiled, parameters });
  }
}
