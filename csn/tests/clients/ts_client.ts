// Against a served app, typed by openapi-typescript's output for its schema (./schema.d.ts): sign in,
// list content, write progress, read an error code. Prints JSON. Compiled by tsc --strict, run by node.
import type { components } from "./schema.js";

declare const process: { argv: string[] }; // node's, without @types/node
type Schemas = components["schemas"];
const [base, email, password] = process.argv.slice(2);
const json = { "Content-Type": "application/json" };

const signInBody: Schemas["TokenInputRequest"] = { email, password };
const signIn = await fetch(`${base}/api/v1/auth/token/`, { method: "POST", headers: json, body: JSON.stringify(signInBody) });
const { token } = (await signIn.json()) as Schemas["TokenOutput"];
const auth = { ...json, Authorization: `Token ${token}` };

const page = (await (await fetch(`${base}/api/v1/content/?ordering=-published_at`)).json()) as Schemas["PaginatedContentList"];
const item: Schemas["Content"] = page.results[0];

const reading: Schemas["ProgressInputRequest"] = {
  position_seconds: 300,
  duration_seconds: 600,
  recorded_at: new Date().toISOString(),
};
const put = await fetch(`${base}/api/v1/progress/${item.id}/`, { method: "PUT", headers: auth, body: JSON.stringify(reading) });
const progress = (await put.json()) as Schemas["ProgressRecordOutput"];

const missing = await fetch(`${base}/api/v1/progress/999999999/`, { headers: auth });
const problem = (await missing.json()) as Schemas["Problem"];

console.log(
  JSON.stringify({
    token: token.length > 0,
    titles: page.results.map((row) => row.title),
    progress: [progress.content_id, progress.completion_percentage, progress.applied],
    missing: [problem.status, problem.code, missing.headers.get("content-type")],
  }),
);
