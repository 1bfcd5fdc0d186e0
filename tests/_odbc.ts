/**
 * Queries through the real SQLite ODBC driver (Debian's `libsqliteodbc` under unixODBC, driven by
 * `python3-pyodbc`): what Excel and Power BI see. {@linkcode odbcSkip} says why these tests are
 * skipped where the driver or the binding is missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The Python that has Debian's pyodbc (a pyenv one on PATH may not). */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** The ODBC driver's name in odbcinst.ini. */
const DRIVER = "SQLite3";

/** Runs queries given as JSON on stdin; prints each result's column types and values as JSON. */
const SCRIPT = `
import json, sys, datetime, decimal, pyodbc
job = json.load(sys.stdin)
conn = pyodbc.connect("DRIVER={${DRIVER}};Database=" + job["db"], autocommit=True)
def plain(v):
    if isinstance(v, datetime.datetime): return {"datetime": v.isoformat()}
    if isinstance(v, datetime.date): return {"date": v.isoformat()}
    if isinstance(v, decimal.Decimal): return float(v)
    return v
out = []
for sql in job["queries"]:
    cur = conn.execute(sql)
    cols = [(d[0], d[1].__name__) for d in cur.description]
    out.append({"columns": cols, "rows": [[plain(v) for v in r] for r in cur.fetchall()]})
print(json.dumps(out))
`;

/** Why the ODBC tests cannot run here, or false when they can. */
export function odbcSkip(): string | false {
  const probe = spawnSync(PYTHON, [
    "-c",
    `import pyodbc; print("${DRIVER}" in pyodbc.drivers())`,
  ], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    return "python3-pyodbc not installed (apt-get install unixodbc libsqliteodbc python3-pyodbc)";
  }
  if (probe.stdout.trim() !== "True") {
    return `SQLite ODBC driver "${DRIVER}" not registered (apt-get install libsqliteodbc)`;
  }
  return false;
}

/** One result through ODBC: column name → the Python type the driver gave, and the rows. */
export interface OdbcResult {
  columns: [string, string][];
  /** Values; date-times as `{ datetime: "…" }`. */
  rows: unknown[][];
}

/** Run queries against a SQLite file through the ODBC driver. */
export function odbcQuery(db: string, queries: string[]): OdbcResult[] {
  const run = spawnSync(PYTHON, ["-c", SCRIPT], {
    input: JSON.stringify({ db, queries }),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`ODBC query failed: ${run.stderr || run.error}`);
  return JSON.parse(run.stdout) as OdbcResult[];
}
