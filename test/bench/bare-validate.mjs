// The floor `canon validate` is measured against: a bare script that does only the unavoidable work
// (read the schemas, compile them with ajv, parse every registry YAML file, validate each document
// against its kind's schema) with none of Canon's positions, references or reporting.
// Plain JavaScript so it runs with nothing but node: usage `node bare-validate.mjs <registry> <schemas>`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

const [registryDir = 'registry', schemasDir = 'schemas'] = process.argv.slice(2);
const addFormats = addFormatsModule.default ?? addFormatsModule;
const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true });
addFormats(ajv);
const kindSchemas = new Map();
for (const name of readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json'))) {
  const schema = JSON.parse(readFileSync(join(schemasDir, name), 'utf8'));
  ajv.addSchema(schema);
  if (schema['x-canon']) kindSchemas.set(name.replace('.schema.json', ''), schema.$id);
}
const validators = new Map([...kindSchemas].map(([kind, id]) => [kind, ajv.getSchema(id)]));
let documents = 0;
let errors = 0;
for (const entry of readdirSync(registryDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.ya?ml$/.test(entry.name) || entry.name === 'canon.yaml') continue;
  for (const doc of parseAllDocuments(readFileSync(join(entry.parentPath, entry.name), 'utf8'))) {
    const value = doc.toJS();
    documents++;
    const validate = validators.get(value?.kind);
    if (!validate || !validate(value)) errors++;
  }
}
process.stdout.write(`${documents} documents, ${errors} invalid\n`);
