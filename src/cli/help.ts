/**
 * `act-sync COMMAND --help`: each command's usage, flags and examples. The flags listed here are
 * the ones its flag table accepts (tests/cli_help_test.ts checks that they agree).
 *
 * @module
 */

const CONFIG_OPTIONS = `Options shared with the other commands:
  -c, --config FILE      configuration file (default: configuration.json in the current folder,
                         else next to the executable, or env ACT_SYNC_CONFIG)
  --state FILE           state file (config key state_file)
  --destination URL      sqlite:FILE or postgres://... (config key destination)
  --tables a,b           tables to use (config key tables)
  --log-level LEVEL      INFO | FINE | WARNING | SEVERE
  -q, --quiet            log warnings and errors only (--log-level WARNING)
  -v, --verbose          log details (--log-level FINE)
  --log-format FORMAT    text | json
  --http-host HOST       service mode: interface to bind (default 127.0.0.1)
  --http-port N          service mode: port (default 8787)
  -h, --help             show this help`;

/** Help per command; "" is the default command (`--once` and service mode). */
export const COMMAND_HELP: Record<string, string> = {
  "": `Usage:
  act-sync --once [options]     sync every configured table once, then exit
  act-sync [options]            service mode: sync on the schedule, serve /health /state /metrics

Options:
  --once                 one run, then exit (0 synced, 1 failed, 3 locked, 4 login refused)
  --full-refresh         ignore cursors and re-read everything

${CONFIG_OPTIONS}

Examples:
  act-sync --once
  act-sync --once -c C:\\act-sync\\configuration.json --tables contacts,companies
  act-sync --http-port 8787         (stop it with 'act-sync stop' or Ctrl+C)
`,
  check: `Usage: act-sync check [options]

Authenticate and probe each table's endpoint with $top=1; prints a table; exit 0 when every probe
passed, 4 when Act! refused the login (username, password or database name), 1 otherwise.

${CONFIG_OPTIONS}

Examples:
  act-sync check
  act-sync check -c other.json --tables contacts
`,
  backup: `Usage: act-sync backup FILE [options]

Write a consistent, read-only snapshot of the SQLite destination to FILE: one file, not in WAL
mode, written under a temporary name in FILE's folder and renamed over the old copy, so that a
reader never sees half a file. Safe while the service runs (the snapshot is the last committed
state). The same snapshot 'publish_to' writes after each successful run.

${CONFIG_OPTIONS}

Examples:
  act-sync backup D:\\backup\\act.db
  act-sync backup \\\\fileserver\\reports\\act.db -c C:\\act-sync\\configuration.json
`,
  state: `Usage: act-sync state [options]

Print the state file as a table: per table its cursor, last success, rows and last error.

Options:
  --json                 print the raw state file instead

${CONFIG_OPTIONS}

Examples:
  act-sync state
  act-sync state --json --state D:\\act-sync\\state.json
`,
  reset: `Usage: act-sync reset [TABLE...] [options]

Forget the cursors of the named tables (every table when none is named) so that the next run
re-reads them from the start. Rows already in the destination stay.

Options:
  --dry-run              say what would be reset, change nothing

${CONFIG_OPTIONS}

Examples:
  act-sync reset contacts
  act-sync reset --dry-run
`,
  reconcile: `Usage: act-sync reconcile [TABLE...] [options]

Compare the full id list of each table in Act! with the destination: mark rows deleted in Act!
(_act_deleted = 1) and fetch rows missing locally. Exit 0 every table reconciled, 1 failed,
3 another run holds the lock, 4 Act! refused the login.

Options:
  --force                go on even when Act! lists far fewer ids than the destination holds
                         (the fail-safe would otherwise refuse to mark them deleted)
  --dry-run              read the id lists and say what would change, change nothing

${CONFIG_OPTIONS}

Examples:
  act-sync reconcile
  act-sync reconcile contacts --dry-run
`,
  stop: `Usage: act-sync stop [options]

Ask the act-sync service running with this configuration to finish the page being written, save
its state and exit (POST /stop to its monitoring endpoint on http_host:http_port, with http_token
when set). Use it from Task Scheduler instead of "End", which kills the process.

${CONFIG_OPTIONS}

Examples:
  act-sync stop
  act-sync stop -c C:\\act-sync\\configuration.json
`,
  scrub: `Usage: act-sync scrub [options]

Apply 'exclude_fields' and 'hash_fields' to the values already stored, in place: the columns of
excluded fields are set to NULL, those of hashed fields replaced by their HMAC-SHA-256 (with
ACT_HASH_KEY). Takes the state file's lock as a run does (exit 3 while another run holds it).

${CONFIG_OPTIONS}

Examples:
  act-sync scrub
  act-sync scrub -c C:\\act-sync\\configuration.json
`,
  notify: `Usage: act-sync notify --test [options]

Send a test alert to every target of 'notify' (webhooks and e-mail) and print each result. Exit
code 0 when every target got it, 1 when a send failed, 2 when 'notify' is empty or an SMTP
server refused the login (check 'user' and the variable named by 'password_env').

Options:
  --test                 send the test alert

${CONFIG_OPTIONS}

Examples:
  act-sync notify --test
  act-sync notify --test -c C:\\act-sync\\configuration.json
`,
  demo: `Usage: act-sync demo [--records N]

Start the built-in Act! Web API simulator, sync it into demo/act.db in the current folder, change
some rows, sync again.

Options:
  --records N            contacts to generate (default 3000)
  -h, --help             show this help
`,
  simulate: `Usage: act-sync simulate [options] [switches]

Run the Act! Web API simulator alone on 127.0.0.1 (base path /act.web.api) until Ctrl+C.

Options:
  --port N                   port (default 8790; 0 picks a free one)
  --records N                contacts to generate (other tables scale with it)
  --seed S                   data seed (default 1)
  --counts t=N,...           rows per table, e.g. contacts=10,companies=5
  --username U               login (default demo)
  --password P               password (default demo)
  --database D               database name (default ActDemo)

Quirks:
  --envelope value|array     list envelope for every table, or t=value|array,...
  --page-cap N               the server returns at most N rows per page
  --default-page-size N      rows per page when $top is absent
  --multi-key-orderby        accept $orderby with several keys
  --stable-order             keep ties in a stable order (default: unstable, like Act!)
  --activity-types           serve /api/activity-types (default: 404, like some Act! versions)
  --products-edited          products have an edited date
  --no-products-filter       ignore $filter on products
  --no-ne-filter             answer 400 to 'ne' in $filter
  --ignore-skip              ignore $skip
  --no-date-header           send no Date header
  --echo-credentials         echo the credentials in error bodies (tests redaction)
  --offsetless-dates         dates without a zone offset
  --date-shape SHAPE         offset-less dates as iso, space, lowercase, long-fraction or mixed
  --system-spelling S        /api/system keys as camel (apiVersion), pascal (APIVersion) or empty
  --html-password            data requests answer 200 with an HTML page carrying the password
  --act-error CODE[:STATUS]  data requests answer STATUS (default 403) with Act! error 4031 or 4032
  --odd-fields               field names that collide by case or after flattening
  --no-groups-edited         groups without created/edited ($filter on edited answers 400)
  --users-odata              /api/users honours $top, $skip, $orderby, $filter (default: ignored)
  --no-history-format        history details always as stored (HTML), whatever format= asks
  --no-line-items-bump       a line item change does not bump its opportunity's edited
  --no-notes-odata           /api/notes answers 400 to $filter, $orderby and $select
  --no-notes-format          noteText always as stored (HTML), whatever format= asks
  --custom-entities A,B      the custom tables Act! lists (default: Projects and
                             "Équipement Rentals & Service"; "" for none)
  --no-custom-metadata       /api/metadata/{custom table}/fields answers 404 (no labels)
  --metadata-empty T,T       entity types whose field metadata is an empty list
                             (default: activity,history,note,user,task, like Premium Cloud)
  --metadata-alternate       metadata with other field names, in {"value": [...]}, items embedded
  --docs-forbidden           $metadata and /swagger answer 403, like the cloud host
  --lookups-missing T,T      lookup tables whose endpoints answer 404 (e.g. teams)
  --teams-embed-members      /api/teams embeds members (default: only the roster has them)
  --sub-list-cap N           line items: at most N per answer, paged by $top/$skip/$orderby=id
  --lookups-page-cap N       lookup lists: at most N per answer, paged by $top/$skip/$orderby=id
  --line-items-upper-key     line items carry OpportunityID instead of opportunityID
  --token-lifetime S|none    token lifetime in seconds
  --token-max-requests N     token expires after N requests
  --clock-skew S             server clock offset in seconds
  --stamp-skew S             offset of the edited stamps in seconds
  --date-jump-to DATE        the server clock jumps to DATE (ISO-8601 with a zone)
  --poison ID=KIND,...       serve these records poisoned; KIND: deep, deep-array, bad-edited,
                             not-json, surrogate, nul, big-numbers

Faults:
  --latency MS               delay every response
  --rate-limit N             answer 429 beyond N requests per window
  --fault-rate R             fail this share of requests (0 to 1)
  --fault-kinds k,...        status, rate-limit, malformed, truncated, html, object, slow, drop,
                             bad-row, expire-token (default: all but slow, drop and bad-row)
  --fault-seed S             seed of the faults
  -h, --help                 show this help

Examples:
  act-sync simulate --port 8790 --records 5000
  act-sync simulate --fault-rate 0.1 --fault-seed 7
`,
};
