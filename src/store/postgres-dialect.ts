/**
 * Kysely's PostgreSQL dialect with introspection confined to the
 * connection's `current_schema()`.
 *
 * Kysely's migrator calls `getTables()` on every run to see whether its
 * bookkeeping tables exist. Kysely's own PostgreSQL introspector reads every
 * table of every schema in the database and, per column, calls
 * `has_schema_privilege(name, …)` and `pg_get_serial_sequence('schema.table', …)`.
 * Those look names up again in the live catalog, after the query's snapshot
 * was taken: when anything else drops a schema or table of the same database
 * while the query runs (another application's migration, another jitgate
 * schema being removed), the lookup fails with `schema "…" does not exist` and
 * jitgate's own migration fails with it, at server start. Reading only our
 * schema, and joining the catalogs instead of looking names up, leaves
 * nothing of another schema for a concurrent drop to break.
 */
import {
  PostgresDialect,
  PostgresIntrospector,
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';

/** Kysely's bookkeeping tables, hidden unless `withInternalKyselyTables`. */
const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];

interface ColumnRow {
  column: string;
  not_null: boolean;
  has_default: boolean;
  table: string;
  table_type: string;
  schema: string;
  type: string;
  type_schema: string;
  column_description: string | null;
  auto_incrementing: boolean;
}

/** Introspection of the tables and views in `current_schema()` only. */
export class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;
  readonly #schemas: PostgresIntrospector;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
    // Listing schema names reads pg_namespace alone: nothing to break there.
    this.#schemas = new PostgresIntrospector(db);
  }

  getSchemas(): Promise<SchemaMetadata[]> {
    return this.#schemas.getSchemas();
  }

  /** Tables and views of `current_schema()`, in name order, columns in table order. */
  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    // Auto-increment as pg_get_serial_sequence decides it (an owned sequence:
    // dependency 'a' for serial, 'i' for identity), from pg_depend directly.
    const { rows } = await sql<ColumnRow>`
      select a.attname as "column", a.attnotnull as not_null, a.atthasdef as has_default,
             c.relname as "table", c.relkind as table_type, ns.nspname as "schema",
             typ.typname as "type", dtns.nspname as type_schema,
             col_description(a.attrelid, a.attnum) as column_description,
             exists (
               select 1 from pg_catalog.pg_depend d
               join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
               where d.classid = 'pg_catalog.pg_class'::regclass
                 and d.refclassid = 'pg_catalog.pg_class'::regclass
                 and d.refobjid = c.oid and d.refobjsubid = a.attnum
                 and d.deptype in ('a', 'i')
             ) as auto_incrementing
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on c.oid = a.attrelid
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      join pg_catalog.pg_type typ on typ.oid = a.atttypid
      join pg_catalog.pg_namespace dtns on dtns.oid = typ.typnamespace
      where ns.nspname = current_schema()
        and c.relkind in ('r', 'v', 'p')
        and a.attnum > 0
        and not a.attisdropped
      order by c.relname, a.attnum`.execute(this.#db);

    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const row of rows) {
      if (!options.withInternalKyselyTables && KYSELY_TABLES.includes(row.table)) continue;
      let table = tables.get(row.table);
      if (!table) {
        table = { name: row.table, schema: row.schema, isView: row.table_type === 'v', columns: [] };
        tables.set(row.table, table);
      }
      table.columns.push({
        name: row.column,
        dataType: row.type,
        dataTypeSchema: row.type_schema,
        isAutoIncrementing: row.auto_incrementing,
        isNullable: !row.not_null,
        hasDefaultValue: row.has_default,
        comment: row.column_description ?? undefined,
      });
    }
    return [...tables.values()];
  }

  /** @deprecated by kysely in favour of {@link getTables}; kept for the interface. */
  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** {@link PostgresDialect} whose `db.introspection` is a {@link CurrentSchemaIntrospector}. */
export class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}
