/**
 * Realistic, deterministic Act! records generated on demand from (seed, table, index).
 *
 * Base rows are ordered by their timeline stamp (`edited`, or `editDate` for products): the
 * stamp never decreases with the index, so a date range is a binary search over a typed array.
 * Stamps come in runs: single rows spread over about three years, and tie groups (bulk imports)
 * where hundreds to thousands of rows share one second.
 *
 * @module
 */
import type { TableName } from "../act/tables.ts";
import { actDate, formatGuid, hash32, hashFloat, hex8, Random } from "./_random.ts";

/** A JSON record. */
export type Row = Record<string, unknown>;

const TABLE_NO: Record<TableName, number> = {
  contacts: 1,
  companies: 2,
  opportunities: 3,
  activities: 4,
  activity_types: 5,
  products: 6,
  history: 7,
  groups: 8,
  users: 9,
  opportunity_products: 10,
  // Served by `_metadata.ts`, not generated here.
  opportunity_processes: 11,
  opportunity_stages: 12,
  history_types: 13,
  teams: 14,
  field_labels: 15,
  picklist_items: 16,
};

/** The id of opportunity process `no` (1: the one every generated opportunity is in). */
export function processGuid(seed: number, no: number): string {
  return formatGuid(hex8(hash32(seed, 91, no)).repeat(4));
}

/** The id of the `no`-th stage (0-based) of the opportunities' process. */
export function stageGuid(seed: number, no: number): string {
  return formatGuid(hex8(hash32(seed, 92, no)).repeat(4));
}

const DAY = 86_400_000;
const YEAR = 365 * DAY;

const FIRST = [
  "James",
  "Mary",
  "John",
  "Patricia",
  "Robert",
  "Jennifer",
  "Michael",
  "Linda",
  "William",
  "Elizabeth",
  "David",
  "Barbara",
  "Richard",
  "Susan",
  "Joseph",
  "Jessica",
  "Thomas",
  "Sarah",
  "Charles",
  "Karen",
  "Christopher",
  "Nancy",
  "Daniel",
  "Lisa",
  "Matthew",
  "Betty",
  "Anthony",
  "Margaret",
  "Mark",
  "Sandra",
  "Zoë",
  "José",
  "Åsa",
  "François",
  "Jürgen",
  "Renée",
  "Björn",
  "Chloé",
  "Søren",
  "Łukasz",
];
const LAST = [
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Jones",
  "Garcia",
  "Miller",
  "Davis",
  "Rodriguez",
  "Martinez",
  "Hernandez",
  "Lopez",
  "Gonzalez",
  "Wilson",
  "Anderson",
  "Thomas",
  "Taylor",
  "Moore",
  "Jackson",
  "Martin",
  "Lee",
  "Perez",
  "Thompson",
  "White",
  "Harris",
  "Sanchez",
  "Clark",
  "Ramirez",
  "Lewis",
  "Robinson",
  "O'Brien",
  "Müller",
  "Núñez",
  "Dubois",
  "Østergaard",
];
const COMPANY_A = [
  "Acme",
  "Globex",
  "Initech",
  "Umbrella",
  "Stark",
  "Wayne",
  "Wonka",
  "Hooli",
  "Vandelay",
  "Soylent",
  "Cyberdyne",
  "Tyrell",
  "Gringotts",
  "Monarch",
  "Oceanic",
  "Pied Piper",
  "Dunder",
  "Sterling",
  "Bluth",
  "Prestige",
];
const COMPANY_B = [
  "Industries",
  "Corp",
  "Ltd",
  "Holdings",
  "& Sons",
  "Partners",
  "Group",
  "Solutions",
  "Logistics",
  "Consulting",
  "Manufacturing",
  "Systems",
];
const CITIES: readonly (readonly [string, string, string, number, number])[] = [
  ["Phoenix", "AZ", "85004", 33.45, -112.07],
  ["Scottsdale", "AZ", "85251", 33.49, -111.93],
  ["Seattle", "WA", "98101", 47.61, -122.33],
  ["Austin", "TX", "78701", 30.27, -97.74],
  ["Boston", "MA", "02108", 42.36, -71.06],
  ["Denver", "CO", "80202", 39.74, -104.99],
  ["Chicago", "IL", "60601", 41.88, -87.63],
  ["Miami", "FL", "33101", 25.76, -80.19],
  ["Portland", "OR", "97201", 45.52, -122.68],
  ["Nashville", "TN", "37201", 36.16, -86.78],
];
const STREETS = ["Main St", "Oak Ave", "Camelback Rd", "Market St", "Elm St", "2nd Ave", "Pine Rd"];
const TITLES = [
  "CEO",
  "Sales Manager",
  "Account Executive",
  "Office Manager",
  "CFO",
  "Buyer",
  "Engineer",
  "Marketing Director",
  "Owner",
  "Consultant",
  "",
];
const DEPARTMENTS = ["Sales", "Marketing", "Finance", "Operations", "IT", "Purchasing", ""];
/** The industries of contacts and companies (a drop-down list in `_metadata.ts`). */
export const INDUSTRIES = [
  "Manufacturing",
  "Retail",
  "Healthcare",
  "Software",
  "Construction",
  "Finance",
  "Education",
];
/** The territories (a drop-down list in `_metadata.ts`). */
export const TERRITORIES = ["West", "East", "Central", "North", "South", "International"];
const CONTACT_TYPES = ["Contact", "Customer", "Prospect", "Vendor", "Partner"];
const ID_STATUS = ["Active", "Customer", "Prospect", "Inactive", "Referral", ""];
const USERS = [
  "Chris Huffman",
  "Allison Mikola",
  "Jonathan Sommers",
  "Melissa Pearce",
  "Betty Browne",
  "Ernst Anderson",
  "Juliette Bertrand",
  "Sarah Whiting",
];
/** The stages of the opportunities' process: name and probability. */
export const STAGES = [
  ["Initial Communication", 10],
  ["Needs Assessment", 25],
  ["Presentation", 50],
  ["Negotiation", 75],
  ["Commitment to Buy", 90],
  ["Closed", 100],
] as const;
const STATUS_NAMES = ["Open", "Won", "Lost", "Inactive"];
const SUBJECTS = [
  "Follow up on proposal",
  "Quarterly review",
  "Discuss pricing",
  "Product demo",
  "Send brochure",
  "Check-in call",
  "Contract renewal",
  "Kick-off meeting",
  "Site visit",
];
const PRODUCTS = [
  "Widget",
  "Gadget",
  "Service Plan",
  "License",
  "Support Hours",
  "Training Seat",
  "Module",
  "Adapter",
  "Subscription",
  "Installation",
];
const GROUPS = [
  "Key Accounts",
  "Newsletter",
  "Trade Show Leads",
  "VIP",
  "Partners",
  "Holiday Cards",
  "Board",
  "Beta Testers",
];
const OUTCOMES = [
  "went well",
  "no answer",
  "left a message",
  "asked for a quote",
  "will decide soon",
];
const TASK_TYPES: readonly (readonly [string, string, boolean, string[]])[] = [
  ["Call", "Phone call", false, [
    "Call Attempted",
    "Call Completed",
    "Call Left Message",
    "Call Received",
  ]],
  ["Meeting", "Meeting", false, ["Meeting Held", "Meeting Not Held"]],
  ["To-do", "To-do", false, ["To-do Done", "To-do Not Done"]],
  ["Personal Activity", "Personal activity", false, ["Personal Activity Completed"]],
  ["Vacation", "Vacation", false, ["Vacation Taken"]],
  ["Marketing Call", "Marketing call", false, ["Marketing Call Completed"]],
  ["Email", "E-mail", true, ["Email Sent"]],
  ["Follow-up", "Follow-up", true, ["Follow-up Done"]],
  ["Demo", "Product demonstration", true, ["Demo Given"]],
  ["Site Visit", "Visit at the customer's site", true, ["Visit Done"]],
  ["Webinar", "Webinar", true, ["Webinar Held"]],
  ["Training", "Training session", true, ["Training Held"]],
];

/** Per-table counts from `records` (number of contacts), documented in mod.ts. */
export function defaultCounts(records: number): Record<TableName, number> {
  return {
    contacts: records,
    companies: Math.ceil(records / 5),
    opportunities: Math.ceil(records / 4),
    activities: records * 2,
    activity_types: TASK_TYPES.length,
    products: Math.min(50 + Math.floor(records / 20), 5000),
    history: records * 3,
    groups: Math.min(5 + Math.floor(records / 50), 500),
    users: USERS.length,
    // Line items are read per opportunity: about two on most opportunities (see lineItems).
    opportunity_products: 0,
    // Served by `_metadata.ts`: no generated rows.
    opportunity_processes: 0,
    opportunity_stages: 0,
    history_types: 0,
    teams: 0,
    field_labels: 0,
    picklist_items: 0,
  };
}

/** The generated base data of one simulator: counts, stamps and record builders. */
export class Dataset {
  readonly seed: number;
  readonly counts: Readonly<Record<TableName, number>>;
  readonly startMs: number;
  readonly endMs: number;
  readonly users: readonly { id: string; name: string }[];
  #stamps = new Map<TableName, Float64Array>();
  #masks: Record<TableName, number>;

  constructor(seed: number, counts: Record<TableName, number>, nowMs: number) {
    this.seed = seed >>> 0;
    this.counts = counts;
    this.endMs = Math.floor((nowMs - 10 * 60_000) / 1000) * 1000;
    this.startMs = this.endMs - 3 * YEAR;
    this.#masks = Object.fromEntries(
      Object.entries(TABLE_NO).map(([t, no]) => [t, hash32(this.seed, no, 99) & 0xffffff]),
    ) as Record<TableName, number>;
    this.users = USERS.map((name, i) => ({
      name,
      id: formatGuid(
        hex8(hash32(this.seed, 90, i, 1)) + hex8(hash32(this.seed, 90, i, 2)) +
          hex8(hash32(this.seed, 90, i, 3)) + hex8(hash32(this.seed, 90, i, 4)),
      ),
    }));
  }

  /** The JSON key of the timeline stamp of a table, or null (activity types). */
  stampKey(table: TableName): "edited" | "editDate" | null {
    if (table === "activity_types" || table === "users" || table === "opportunity_products") {
      return null;
    }
    return table === "products" ? "editDate" : "edited";
  }

  /** Stamps (ms) of the base rows, non-decreasing by index; built on first use. */
  stamps(table: TableName): Float64Array {
    let stamps = this.#stamps.get(table);
    if (!stamps) {
      stamps = buildStamps(
        this.seed,
        TABLE_NO[table],
        this.counts[table],
        this.startMs,
        this.endMs,
      );
      this.#stamps.set(table, stamps);
    }
    return stamps;
  }

  /** The GUID (without any activity date suffix) of base index `i`. */
  guid(table: TableName, i: number): string {
    const no = TABLE_NO[table];
    const s = this.seed;
    const tail = scramble(i, this.#masks[table]).toString(16).padStart(6, "0") +
      (hash32(s, no, i, 98) & 0xffffff).toString(16).padStart(6, "0");
    return formatGuid(
      hex8(hash32(s, no, i, 1)) + hex8(hash32(s, no, i, 2)) +
        hex8(hash32(s, no, i, 3)).slice(0, 4) +
        tail,
    );
  }

  /** The id (as a string) of base index `i`. */
  idOf(table: TableName, i: number): string {
    if (table === "activity_types") return String(i + 1);
    if (table === "users") return this.users[i % this.users.length].id;
    if (table === "activities") {
      const lead = this.#seriesLead(i);
      return this.guid(table, lead) + mmddyyyy(this.#activityStart(i));
    }
    return this.guid(table, i);
  }

  /** The base index of an id, or -1. */
  indexOf(table: TableName, id: string): number {
    const n = this.counts[table];
    if (table === "activity_types") {
      const k = /^\d+$/.test(id) ? Number(id) - 1 : -1;
      return k >= 0 && k < n ? k : -1;
    }
    if (table === "users") {
      const k = this.users.findIndex((u) => u.id === id.toLowerCase());
      return k < n ? k : -1;
    }
    const m = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-([0-9a-f]{6})[0-9a-f]{6}/.exec(
      id.toLowerCase(),
    );
    if (!m) return -1;
    const i = unscramble(parseInt(m[1], 16), this.#masks[table]);
    const candidates = table === "activities" && this.#recurringBlock(i)
      ? [i, i + 1, i + 2, i + 3]
      : [i];
    for (const c of candidates) {
      if (c < n && this.idOf(table, c) === id.toLowerCase()) return c;
    }
    return -1;
  }

  /** The key fields of base index `i` (id and dates), cheap to build. */
  key(table: TableName, i: number): Row {
    const id: unknown = table === "activity_types" ? i + 1 : this.idOf(table, i);
    if (table === "activity_types") return { id };
    if (table === "users") return { id };
    const stamp = this.stamps(table)[i];
    const created = actDate(this.#created(table, i, stamp));
    if (table === "products") return { id, createDate: created, editDate: actDate(stamp) };
    return { id, created, edited: actDate(stamp) };
  }

  /** The full record of base index `i`. */
  record(table: TableName, i: number): Row {
    const no = TABLE_NO[table];
    const r = new Random(hash32(this.seed, no, i, 11));
    if (table === "activity_types") return this.#taskType(i);
    if (table === "users") return this.#userRecord(i);
    const stamp = this.stamps(table)[i];
    const created = this.#created(table, i, stamp);
    return this.#build(table, r, i, this.idOf(table, i), stamp, created);
  }

  /** A new realistic record for an insert (number `seq`), stamped `stampMs`. */
  fresh(table: TableName, seq: number, stampMs: number, rng: Random): Row {
    if (table === "activity_types") {
      const row = this.#taskType(seq % TASK_TYPES.length);
      return { ...row, name: `Custom type ${seq}`, isCustom: true, isDeletable: true };
    }
    if (table === "users") {
      const row = this.#userRecord(seq % this.users.length);
      const name = `New User ${seq}`;
      const login = `newuser${seq}`;
      return {
        ...row,
        id: formatGuid(rng.hex(32)),
        displayName: name,
        username: login,
        email: `${login}@example.com`,
      };
    }
    const r = new Random(hash32(this.seed, TABLE_NO[table], seq, 12));
    const guid = formatGuid(rng.hex(32));
    const n = Math.max(this.counts[table], 1);
    return this.#build(table, r, seq % n, guid, stampMs, stampMs, guid);
  }

  #created(table: TableName, i: number, stamp: number): number {
    const back = Math.floor(hashFloat(this.seed, TABLE_NO[table], i, 4) ** 3 * 2 * YEAR / 1000) *
      1000;
    return Math.max(stamp - back, this.startMs - YEAR);
  }

  #recurringBlock(lead: number): boolean {
    return lead % 4 === 0 && hashFloat(this.seed, TABLE_NO.activities, lead >>> 2, 7) < 0.15;
  }

  #seriesLead(i: number): number {
    const lead = i - (i % 4);
    return this.#recurringBlock(lead) ? lead : i;
  }

  #activityStart(i: number): number {
    const lead = this.#seriesLead(i);
    const base = this.stamps("activities")[lead];
    const offset = Math.floor((hashFloat(this.seed, TABLE_NO.activities, lead, 8) * 90 - 30) * 96) *
      900_000;
    return Math.floor((base + offset) / 900_000) * 900_000 + (i - lead) * 7 * DAY;
  }

  contactName(i: number): [string, string] {
    const h = hash32(this.seed, TABLE_NO.contacts, i, 21);
    return [FIRST[h % FIRST.length], LAST[(h >>> 8) % LAST.length]];
  }

  companyName(i: number): string {
    const h = hash32(this.seed, TABLE_NO.companies, i, 21);
    return `${COMPANY_A[h % COMPANY_A.length]} ${COMPANY_B[(h >>> 8) % COMPANY_B.length]}${
      i >= COMPANY_A.length * COMPANY_B.length ? ` ${i}` : ""
    }`;
  }

  #user(r: Random): { id: string; name: string } {
    return r.pick(this.users);
  }

  #build(
    table: TableName,
    r: Random,
    i: number,
    id: string,
    stamp: number,
    created: number,
    freshGuid?: string,
  ): Row {
    switch (table) {
      case "contacts":
        return this.#contact(r, i, id, stamp, created);
      case "companies":
        return this.#company(r, i, id, stamp, created);
      case "opportunities":
        return this.#opportunity(r, i, id, stamp, created);
      case "activities":
        return this.#activity(r, i, id, stamp, created, freshGuid);
      case "history":
        return this.#history(r, i, id, stamp, created);
      case "groups":
        return this.#group(r, i, id, stamp, created);
      default:
        return this.#product(r, i, id, stamp, created);
    }
  }

  #common(r: Random, stamp: number, created: number): Row {
    const manager = this.#user(r);
    return {
      created: actDate(created),
      edited: actDate(stamp),
      editedBy: this.#user(r).name,
      recordManager: manager.name,
      recordManagerID: manager.id,
      recordOwner: manager.name,
      isPrivate: r.chance(0.05),
      acl: r.chance(0.9) ? [] : [{ id: manager.id, name: manager.name }],
    };
  }

  #contact(r: Random, i: number, id: string, stamp: number, created: number): Row {
    const [firstName, lastName] = this.contactName(i);
    const nComp = this.counts.companies;
    const linked = nComp > 0 && r.chance(0.8);
    const cj = linked ? hash32(this.seed, TABLE_NO.contacts, i, 13) % nComp : -1;
    const company = linked ? this.companyName(cj) : r.chance(0.3) ? r.pick(COMPANY_A) + " LLC" : "";
    const domain = (company || "example").toLowerCase().replace(/[^a-z]+/g, "") + ".com";
    const email = `${ascii(firstName)}.${ascii(lastName)}${i}@${domain}`.toLowerCase();
    const common = this.#common(r, stamp, created);
    const middle = r.chance(0.3) ? r.pick(FIRST).slice(0, 1) : "";
    return {
      id,
      firstName,
      lastName,
      middleName: middle,
      namePrefix: r.chance(0.2) ? r.pick(["Mr.", "Ms.", "Dr.", "Mrs."]) : "",
      nameSuffix: r.chance(0.05) ? r.pick(["Jr.", "Sr.", "III", "PhD"]) : "",
      fullName: `${firstName} ${middle ? middle + ". " : ""}${lastName}`,
      salutation: firstName,
      nickName: r.chance(0.1) ? firstName.slice(0, 3) : "",
      company,
      companyID: linked ? this.guid("companies", cj) : "",
      jobTitle: r.pick(TITLES),
      department: r.pick(DEPARTMENTS),
      emailAddress: email,
      altEmailAddress: r.chance(0.2) ? email.replace("@", ".alt@") : "",
      ...phone(r, "businessPhone", true),
      ...phone(r, "mobilePhone", r.chance(0.6)),
      ...phone(r, "homePhone", r.chance(0.3)),
      ...phone(r, "faxPhone", r.chance(0.1)),
      ...phone(r, "alternatePhone", r.chance(0.05)),
      ...phone(r, "pager", r.chance(0.01)),
      businessAddress: address(r, true),
      homeAddress: address(r, r.chance(0.3)),
      website: company ? `https://www.${domain}` : "",
      birthday: r.chance(0.3)
        ? actDate(Date.UTC(r.int(1950, 2000), r.int(0, 11), r.int(1, 28)))
        : null,
      spouse: r.chance(0.1) ? r.pick(FIRST) : "",
      referredBy: r.chance(0.1) ? r.pick(USERS) : "",
      idStatus: r.pick(ID_STATUS),
      contactType: r.pick(CONTACT_TYPES),
      isUser: false,
      imAddress: "",
      messenger: "",
      linkedInProfile: r.chance(0.3)
        ? `https://www.linkedin.com/in/${ascii(firstName).toLowerCase()}${i}`
        : "",
      twitterProfile: "",
      facebookProfile: "",
      personalWebSite: "",
      assistant: r.chance(0.05) ? r.pick(FIRST) : "",
      assistantPhone: "",
      lastReach: r.chance(0.5) ? actDate(stamp - r.int(0, 200) * DAY) : null,
      lastMeeting: r.chance(0.3) ? actDate(stamp - r.int(0, 300) * DAY) : null,
      lastAttempt: r.chance(0.4) ? actDate(stamp - r.int(0, 100) * DAY) : null,
      lastEmail: r.chance(0.5) ? actDate(stamp - r.int(0, 60) * DAY) : null,
      lastResults: r.chance(0.3)
        ? r.pick(["Left message", "Sent quote", "Call back next week"])
        : "",
      ...common,
      customFields: {
        user1: r.chance(0.5) ? r.pick(TERRITORIES) : null,
        user2: r.chance(0.5) ? String(r.int(1, 100) * 50) : null,
        user3: r.chance(0.4) ? `${r.int(1, 999)}.${r.pick(["00", "50", "25"])}` : null,
        user4: r.chance(0.3) ? r.pick(INDUSTRIES) : null,
        user5: r.chance(0.2) ? actDate(stamp - r.int(0, 500) * DAY) : null,
        user6: r.chance(0.3) ? r.pick(["Yes", "No"]) : null,
        user7: r.chance(0.2) ? `Note ${r.hex(6)}` : null,
        user8: null,
        user9: r.chance(0.1) ? String(r.int(0, 5)) : null,
        user10: r.chance(0.1) ? r.pick(["Gold", "Silver", "Bronze"]) : null,
        territory: r.pick(TERRITORIES),
        email_2_email: r.chance(0.1) ? `${ascii(firstName).toLowerCase()}@home.example` : null,
        ticker_symbol: null,
      },
    };
  }

  #company(r: Random, i: number, id: string, stamp: number, created: number): Row {
    const name = this.companyName(i);
    const domain = name.toLowerCase().replace(/[^a-z]+/g, "") + ".com";
    const hasParent = i > 0 && r.chance(0.1);
    const parent = hasParent ? hash32(this.seed, TABLE_NO.companies, i, 14) % i : -1;
    const main = address(r, true);
    return {
      id,
      name,
      description: r.chance(0.3) ? `${r.pick(INDUSTRIES)} company` : "",
      address: main,
      billingAddress: r.chance(0.5) ? main : address(r, r.chance(0.3)),
      shippingAddress: address(r, r.chance(0.3)),
      ...phone(r, "phone", true),
      ...phone(r, "fax", r.chance(0.2)),
      ...phone(r, "tollFreePhone", r.chance(0.1)),
      website: `https://www.${domain}`,
      industry: r.pick(INDUSTRIES),
      region: r.pick(TERRITORIES),
      territory: r.pick(TERRITORIES),
      tickerSymbol: r.chance(0.05) ? name.slice(0, 4).toUpperCase() : "",
      sic: r.chance(0.2) ? String(r.int(1000, 9999)) : "",
      parentID: hasParent ? this.guid("companies", parent) : null,
      rootParentID: hasParent ? this.guid("companies", parent) : null,
      revenue: r.int(0, 500) * 10_000,
      numberOfEmployees: r.int(1, 5000),
      idStatus: r.pick(ID_STATUS),
      referredBy: "",
      ...this.#common(r, stamp, created),
      customFields: {
        user1: r.chance(0.4) ? r.pick(["A", "B", "C"]) : null,
        user2: r.chance(0.3) ? String(r.int(1, 50) * 100) : null,
        user3: null,
        user4: r.chance(0.2) ? r.pick(INDUSTRIES) : null,
        user5: null,
        territory: r.pick(TERRITORIES),
      },
    };
  }

  #opportunity(r: Random, i: number, id: string, stamp: number, created: number): Row {
    const status = r.chance(0.6) ? 0 : r.int(1, 3);
    const stageNo = status === 1 ? STAGES.length - 1 : r.int(0, STAGES.length - 2);
    const [stageName, stageProb] = STAGES[stageNo];
    const processId = processGuid(this.seed, 1);
    const qty = r.int(1, 20);
    const price = r.int(10, 2000);
    const total = qty * price;
    const contacts = [];
    const nContacts = Math.min(this.counts.contacts, r.int(0, 3));
    for (let k = 0; k < nContacts; k++) {
      const cj = hash32(this.seed, TABLE_NO.opportunities, i, 30 + k) % this.counts.contacts;
      const [f, l] = this.contactName(cj);
      contacts.push({
        id: this.guid("contacts", cj),
        displayName: `${f} ${l}`,
        company: "",
        isInvited: false,
      });
    }
    const companies = [];
    if (this.counts.companies > 0 && r.chance(0.7)) {
      const cj = hash32(this.seed, TABLE_NO.opportunities, i, 40) % this.counts.companies;
      companies.push({ id: this.guid("companies", cj), name: this.companyName(cj) });
    }
    const open = actDate(created);
    const estimated = actDate(created + r.int(10, 180) * DAY);
    const manager = this.#user(r);
    const items = this.lineItems(id, created, stamp);
    const itemsTotal = sumTotals(items);
    return {
      id,
      name: `${r.pick(PRODUCTS)} deal ${i + 1}`,
      status,
      statusName: STATUS_NAMES[status],
      stage: {
        id: stageGuid(this.seed, stageNo),
        name: stageName,
        probability: stageProb,
        number: stageNo + 1,
        description: "",
        process: {
          id: processId,
          name: "Standard Sales Process",
          description: "Default opportunity process",
          stages: [],
        },
      },
      probability: stageProb,
      productTotal: items.length ? itemsTotal : total,
      weightedTotal: Math.round((items.length ? itemsTotal : total) * stageProb) / 100,
      discount: 0,
      contacts,
      companies,
      groups: r.chance(0.1) ? this.#groupRefs(r.hex(32), 1) : [],
      estimatedCloseDate: estimated,
      actualCloseDate: status === 0 ? "9999-12-31T00:00:00+00:00" : actDate(stamp),
      openDate: open,
      daysOpen: Math.floor((stamp - created) / DAY),
      reason: status === 2 ? r.pick(["Price", "Competitor", "Timing"]) : "",
      source: r.pick(["Web", "Referral", "Trade show", ""]),
      competitor: "",
      manager: manager.name,
      managerID: manager.id,
      ...this.#common(r, stamp, created),
      customFields: {
        user1: r.chance(0.3) ? r.pick(["Q1", "Q2", "Q3", "Q4"]) : null,
        user2: r.chance(0.3) ? String(r.int(1, 10) * 1000) : null,
        user3: null,
      },
    };
  }

  #activity(
    r: Random,
    i: number,
    id: string,
    stamp: number,
    created: number,
    freshGuid?: string,
  ): Row {
    const lead = freshGuid ? i : this.#seriesLead(i);
    const seriesID = freshGuid ?? this.guid("activities", lead);
    const start = freshGuid ? Math.floor(stamp / 900_000) * 900_000 + DAY : this.#activityStart(i);
    const rowId = freshGuid ? freshGuid + mmddyyyy(start) : id;
    const recurring = !freshGuid && this.#recurringBlock(i - (i % 4));
    const minutes = r.pick([15, 30, 30, 60, 60, 90, 120]);
    const typeId = r.int(1, TASK_TYPES.length);
    const contacts = [];
    const nContacts = Math.min(this.counts.contacts, r.int(0, 2));
    for (let k = 0; k < nContacts; k++) {
      const cj = hash32(this.seed, TABLE_NO.activities, i, 30 + k) % this.counts.contacts;
      const [f, l] = this.contactName(cj);
      contacts.push({ id: this.guid("contacts", cj), displayName: `${f} ${l}`, isInvited: false });
    }
    const user = this.#user(r);
    const subject = r.pick(SUBJECTS);
    return {
      id: rowId,
      seriesID,
      subject,
      details: r.chance(0.7)
        ? `<html><body><p>${subject} &amp; next steps.</p><ul><li>Agenda item ${
          r.int(1, 9)
        }</li></ul></body></html>`
        : "",
      location: r.chance(0.3) ? r.pick(CITIES)[0] : "",
      startTime: actDate(start),
      endTime: actDate(start + minutes * 60_000),
      duration: `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${
        String(minutes % 60).padStart(2, "0")
      }:00`,
      activityTypeId: typeId,
      activityTypeName: TASK_TYPES[typeId - 1][0],
      activityPriorityId: r.int(1, 3),
      activityPriorityName: r.pick(["Low", "Medium", "High"]),
      isCleared: start < this.endMs && r.chance(0.7),
      isPrivate: r.chance(0.05),
      isRecurring: recurring,
      isTimeless: r.chance(0.1),
      isAlarmed: r.chance(0.2),
      recurSpec: recurring
        ? {
          type: "Weekly",
          interval: 1,
          daysOfWeek: [new Date(start).getUTCDay()],
          dayOfMonth: 0,
          endDate: actDate(start + 3 * 7 * DAY),
          occurrences: 4,
        }
        : {
          type: "None",
          interval: 0,
          daysOfWeek: [],
          dayOfMonth: 0,
          endDate: null,
          occurrences: 0,
        },
      contacts,
      companies: this.#companyRefs(hash32(this.seed, TABLE_NO.activities, i, 50), 0.4),
      groups: [],
      opportunities: this.#opportunityRefs(hash32(this.seed, TABLE_NO.activities, i, 51), 0.25),
      scheduledBy: user.name,
      scheduledByID: user.id,
      scheduledFor: user.name,
      scheduledForID: user.id,
      created: actDate(created),
      edited: actDate(stamp),
      editedBy: this.#user(r).name,
      recordManager: user.name,
      recordManagerID: user.id,
      customFields: {},
    };
  }

  #product(r: Random, i: number, id: string, stamp: number, created: number): Row {
    const cost = r.int(1, 5000) + r.pick([0, 0.5, 0.99, 0.25]);
    return {
      id,
      name: `${r.pick(PRODUCTS)} ${String.fromCharCode(65 + (i % 26))}${i + 1}`,
      itemNumber: `SKU-${String(i + 1).padStart(5, "0")}`,
      cost,
      price: Math.round(cost * (1.2 + r.next()) * 100) / 100,
      description: r.chance(0.5) ? "Catalogue item" : "",
      isActive: r.chance(0.95),
      createDate: actDate(created),
      editDate: actDate(stamp),
    };
  }

  #companyRefs(h: number, p: number): Row[] {
    const n = this.counts.companies;
    if (n === 0 || (h >>> 8) / 16777216 >= p) return [];
    const j = h % n;
    return [{ id: this.guid("companies", j), name: this.companyName(j) }];
  }

  #opportunityRefs(h: number, p: number): Row[] {
    const n = this.counts.opportunities;
    if (n === 0 || (h >>> 8) / 16777216 >= p) return [];
    const j = h % n;
    return [{ id: this.guid("opportunities", j), name: this.record("opportunities", j).name }];
  }

  /** Up to `k` groups picked by the hex string `pick` (a random draw kept for determinism). */
  #groupRefs(pick: string, k: number): Row[] {
    const n = this.counts.groups;
    if (n === 0) return [];
    const out: Row[] = [];
    for (let m = 0; m < k; m++) {
      const j = (parseInt(pick.slice(m * 6, m * 6 + 6), 16) || 0) % n;
      if (!out.some((g) => g.id === this.guid("groups", j))) {
        out.push({ id: this.guid("groups", j), name: this.groupName(j) });
      }
    }
    return out;
  }

  groupName(i: number): string {
    return i < GROUPS.length ? GROUPS[i] : `${GROUPS[i % GROUPS.length]} ${i + 1}`;
  }

  /** Base indices of the contacts in group `i` (3 to 30, distinct). */
  groupMembers(i: number): number[] {
    const n = this.counts.contacts;
    if (n === 0) return [];
    const size = Math.min(n, 3 + (hash32(this.seed, TABLE_NO.groups, i, 60) % 28));
    const out = new Set<number>();
    for (let k = 0; out.size < size && k < size * 4; k++) {
      out.add(hash32(this.seed, TABLE_NO.groups, i, 100 + k) % n);
    }
    return [...out].sort((a, b) => a - b);
  }

  /**
   * The generated line items of the opportunity `oppId` (none on about one in six), created
   * with it and last edited between its creation and `stamp`.
   */
  lineItems(oppId: string, created: number, stamp: number): Row[] {
    const products = this.counts.products;
    const key = parseInt(oppId.slice(0, 8), 16) ^ parseInt(oppId.slice(24, 32), 16);
    const r = new Random(hash32(this.seed, TABLE_NO.opportunity_products, key, 1));
    if (products === 0 || r.chance(1 / 6)) return [];
    const count = r.int(1, 4);
    const items: Row[] = [];
    for (let k = 0; k < count; k++) {
      const edited = created + Math.floor(r.next() * Math.max(0, stamp - created) / 1000) * 1000;
      items.push(this.lineItem(r, oppId, r.int(0, products - 1), created, edited));
    }
    return items;
  }

  /** One line item of product `j` on `oppId`, drawn from `r`. */
  lineItem(r: Random, oppId: string, j: number, created: number, edited: number): Row {
    const product = this.record("products", j);
    const quantity = r.pick([1, 1, 2, 3, 5, 10, 2.5, 0.5]);
    const price = Number(product.price);
    const discount = r.pick([0, 0, 0, 5, 10, 15]);
    const discountPrice = Math.round(price * (100 - discount)) / 100;
    const manager = this.#user(r);
    return {
      id: formatGuid(r.hex(32)),
      name: product.name,
      cost: product.cost,
      price,
      discount,
      discountPrice,
      quantity,
      total: Math.round(discountPrice * quantity * 100) / 100,
      itemNumber: product.itemNumber,
      type: r.pick(["Product", "Service"]),
      productID: product.id,
      opportunityID: oppId,
      isQuickbooksProduct: false,
      customFields: { user1: r.chance(0.2) ? "Promo" : null },
      createDate: actDate(created),
      editDate: actDate(edited),
      created: actDate(created),
      edited: actDate(edited),
      editedBy: manager.name,
      recordManager: manager.name,
    };
  }

  #history(r: Random, i: number, id: string, stamp: number, created: number): Row {
    const typeNo = r.int(0, TASK_TYPES.length - 1);
    const [typeName, , , outcomes] = TASK_TYPES[typeNo];
    const k = r.int(0, outcomes.length - 1);
    const contacts = [];
    const nc = this.counts.contacts;
    const nContacts = Math.min(nc, r.int(1, 2));
    for (let m = 0; m < nContacts; m++) {
      const cj = hash32(this.seed, TABLE_NO.history, i, 30 + m) % nc;
      const [f, l] = this.contactName(cj);
      contacts.push({ id: this.guid("contacts", cj), displayName: `${f} ${l}` });
    }
    const minutes = r.pick([0, 5, 15, 30, 60]);
    const creator = this.#user(r);
    const editor = this.#user(r);
    const regarding = r.pick(SUBJECTS);
    const first = contacts[0]
      ? this.contactName(hash32(this.seed, TABLE_NO.history, i, 30) % nc)
      : null;
    return {
      id,
      regarding,
      details: r.chance(0.6)
        ? `<html><body><p>${regarding}: ${r.pick(OUTCOMES)} &amp; noted.</p></body></html>`
        : "",
      duration: `00:${String(minutes).padStart(2, "0")}:00`,
      startTime: actDate(created),
      endTime: actDate(created + minutes * 60_000),
      historyTypeID: (typeNo + 1) * 100 + k,
      historyType: {
        id: (typeNo + 1) * 100 + k,
        name: outcomes[k],
        activityTypeId: typeNo + 1,
        activityTypeName: typeName,
        description: "",
      },
      createUserID: creator.id,
      createUserName: creator.name,
      editUserID: editor.id,
      editUserName: editor.name,
      recordManagerID: creator.id,
      recordManager: creator.name,
      isPrivate: r.chance(0.05),
      contactEmail: first ? `${ascii(first[0])}.${ascii(first[1])}@example.com`.toLowerCase() : "",
      contactPhone: first && r.chance(0.5)
        ? `+1 602 555 ${String(r.int(0, 9999)).padStart(4, "0")}`
        : "",
      contactCompany: "",
      outlookID: null,
      attachment: r.chance(0.05)
        ? { displayName: "notes.pdf", fileExtension: ".pdf", fileSize: r.int(1000, 90000) }
        : null,
      created: actDate(created),
      edited: actDate(stamp),
      contacts,
      companies: this.#companyRefs(hash32(this.seed, TABLE_NO.history, i, 40), 0.6),
      groups: r.chance(0.05) ? this.#groupRefs(r.hex(12), 1) : [],
      opportunities: this.#opportunityRefs(hash32(this.seed, TABLE_NO.history, i, 41), 0.3),
    };
  }

  #group(r: Random, i: number, id: string, stamp: number, created: number): Row {
    const manager = this.#user(r);
    return {
      id,
      name: this.groupName(i),
      description: r.chance(0.5) ? "Mailing group" : "",
      isDynamic: r.chance(0.1),
      recordManager: manager.name,
      recordManagerID: manager.id,
      created: actDate(created),
      edited: actDate(stamp),
      editedBy: this.#user(r).name,
    };
  }

  #userRecord(i: number): Row {
    const user = this.users[i % this.users.length];
    const [first, last] = user.name.split(" ");
    const login = `${first[0]}${last}`.toLowerCase();
    return {
      id: user.id,
      displayName: user.name,
      firstName: first,
      lastName: last,
      email: `${login}@example.com`,
      username: login,
      role: i === 0 ? "Administrator" : i < 3 ? "Manager" : "Standard",
      status: "Active",
      isActive: true,
    };
  }

  #taskType(i: number): Row {
    const [name, description, isCustom, history] = TASK_TYPES[i % TASK_TYPES.length];
    return {
      id: i + 1,
      name: i < TASK_TYPES.length ? name : `${name} ${i + 1}`,
      description,
      isActive: true,
      isCustom: isCustom || i >= TASK_TYPES.length,
      isDeletable: isCustom || i >= TASK_TYPES.length,
      taskTypeGuid: formatGuid(
        hex8(hash32(this.seed, 93, i, 1)) + hex8(hash32(this.seed, 93, i, 2)) +
          hex8(hash32(this.seed, 93, i, 3)) + hex8(hash32(this.seed, 93, i, 4)),
      ),
      historyTypes: history.map((h, k) => ({ id: (i + 1) * 100 + k, name: h })),
    };
  }
}

const K1 = 0x9e3779 | 1;
const K2 = 0x85ebcb;
const M24 = 16777216;
const K1_INV = inverse24(K1);
const K2_INV = inverse24(K2);

function inverse24(k: number): number {
  let x = k; // Newton: x = x * (2 - k * x) mod 2^24
  for (let n = 0; n < 5; n++) x = mulMod24(x, (2 - mulMod24(k, x) + M24) % M24);
  return x;
}

function mulMod24(a: number, b: number): number {
  return (a * b) % M24;
}

/** A bijection on 24-bit numbers, so ids look random yet decode to their index. */
function scramble(i: number, mask: number): number {
  let x = mulMod24(i & 0xffffff, K1);
  x ^= x >>> 12;
  x = mulMod24(x, K2);
  x ^= x >>> 12;
  return (x ^ mask) >>> 0;
}

function unscramble(y: number, mask: number): number {
  let x = (y ^ mask) >>> 0;
  x ^= x >>> 12;
  x = mulMod24(x, K2_INV);
  x ^= x >>> 12;
  return mulMod24(x, K1_INV);
}

function ascii(s: string): string {
  return s.normalize("NFD").replace(/[^A-Za-z]/g, "");
}

function mmddyyyy(ms: number): string {
  const d = new Date(ms);
  return String(d.getUTCMonth() + 1).padStart(2, "0") + String(d.getUTCDate()).padStart(2, "0") +
    String(d.getUTCFullYear());
}

function phone(r: Random, prefix: string, present: boolean): Row {
  return {
    [prefix]: present
      ? `(${r.int(200, 999)}) ${r.int(200, 999)}-${String(r.int(0, 9999)).padStart(4, "0")}`
      : "",
    [`${prefix}Extension`]: present && r.chance(0.2) ? String(r.int(10, 999)) : "",
    [`${prefix}CountryCode`]: present ? 1 : 0,
    [`${prefix}MaskFormat`]: "(###) ###-####",
  };
}

function address(r: Random, present: boolean): Row {
  if (!present) {
    return {
      line1: null,
      line2: null,
      line3: null,
      city: null,
      state: null,
      postalCode: null,
      country: null,
      latitude: null,
      longitude: null,
    };
  }
  const [city, state, zip, lat, lon] = r.pick(CITIES);
  return {
    line1: `${r.int(1, 9999)} ${r.pick(STREETS)}`,
    line2: r.chance(0.2) ? `Suite ${r.int(100, 999)}` : null,
    line3: null,
    city,
    state,
    postalCode: zip,
    country: "United States",
    latitude: r.chance(0.5) ? Math.round((lat + r.next() / 10) * 1e6) / 1e6 : null,
    longitude: r.chance(0.5) ? Math.round((lon + r.next() / 10) * 1e6) / 1e6 : null,
  };
}

/** Build non-decreasing stamps (ms, whole seconds) with single rows and tie groups. */
function buildStamps(
  seed: number,
  no: number,
  n: number,
  startMs: number,
  endMs: number,
): Float64Array {
  const stamps = new Float64Array(n);
  if (n === 0) return stamps;
  const r = new Random(hash32(seed, no, 77));
  const minGroup = clamp(Math.floor(n / 10), 2, 200);
  const maxGroup = clamp(Math.floor(n / 4), 3, 3000);
  const lengths: number[] = [];
  const ties: boolean[] = [];
  let slots = 0;
  for (let done = 0; done < n;) {
    const tie = r.chance(0.12);
    const len = Math.min(n - done, tie ? r.int(minGroup, maxGroup) : r.int(1, maxGroup));
    lengths.push(len);
    ties.push(tie);
    slots += tie ? 1 : len;
    done += len;
  }
  const startSec = startMs / 1000;
  const step = (endMs - startMs) / 1000 / slots;
  const slotMs = (j: number): number =>
    (startSec + Math.floor((j + hashFloat(seed, no, j, 5) * 0.99) * step)) * 1000;
  let idx = 0;
  let slot = 0;
  for (let s = 0; s < lengths.length; s++) {
    if (ties[s]) {
      stamps.fill(slotMs(slot++), idx, idx + lengths[s]);
      idx += lengths[s];
    } else {
      for (let k = 0; k < lengths[s]; k++) stamps[idx++] = slotMs(slot++);
    }
  }
  return stamps;
}

/**
 * The history types (`/api/history-types`): each activity type's outcomes, with the ids history
 * rows carry in `historyTypeID` (`(activity type id) * 100 + k`).
 */
export function historyTypes(): Row[] {
  return TASK_TYPES.flatMap(([name, , , outcomes], i) =>
    outcomes.map((outcome, k) => ({
      id: (i + 1) * 100 + k,
      name: outcome,
      activityTypeId: i + 1,
      activityTypeName: name,
      description: "",
    }))
  );
}

/** The sum of line items' `total`, in cents rounded. */
export function sumTotals(items: readonly Row[]): number {
  return Math.round(items.reduce((sum, item) => sum + Number(item.total) * 100, 0)) / 100;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}
