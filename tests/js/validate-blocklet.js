#!/usr/bin/env node
// Validate a blocklet.yml with the official validator of @blocklet/meta: `parse()` is what the Blocklet CLI
// runs when it bundles (fix-ups, then the Joi schema, with the listed files checked to exist), and
// `fixAndValidateService` checks the interfaces' service configs.
// Usage: node validate-blocklet.js DIR. Prints {"meta": validated, "raw": as written} or exits 1 with the error.
const path = require('path');
const { parse } = require('@blocklet/meta/lib/parse');
const { fixAndValidateService } = require('@blocklet/meta/lib/validate');

const dir = path.resolve(process.argv[2] || '.');
try {
  const meta = fixAndValidateService(parse(dir, { ensureFiles: true, ensureDist: false }));
  const raw = parse(dir, { fix: false }); // the YAML as written, neither fixed nor validated
  process.stdout.write(JSON.stringify({ meta, raw }));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
