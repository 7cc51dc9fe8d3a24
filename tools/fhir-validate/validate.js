#!/usr/bin/env node
// Validate a FHIR R4 resource (a Bundle) with the npm package `fhir` (FHIR.js, R4 4.0.0 definitions).
// Usage: node validate.js [FILE.json]   (standard input when no file is given)
// Prints one line per message ("severity location: message"); exit 0 when no error, 1 on any error,
// 2 when the input cannot be read or is not JSON.
"use strict";
const fs = require("fs");
const { Fhir } = require("fhir");

function main(argv) {
  let text;
  try {
    text = fs.readFileSync(argv.length > 2 ? argv[2] : 0, "utf8");
  } catch (err) {
    process.stderr.write(`validate.js: cannot read ${argv[2] || "standard input"}: ${err.message}\n`);
    return 2;
  }
  let resource;
  try {
    resource = JSON.parse(text);
  } catch (err) {
    process.stderr.write(`validate.js: not JSON: ${err.message}\n`);
    return 2;
  }
  const result = new Fhir().validate(resource, { errorOnUnexpected: true });
  let errors = 0;
  for (const m of result.messages) {
    if (m.severity === "error") errors += 1;
    const where = m.resourceId ? `${m.resourceId} ${m.location}` : m.location;
    process.stdout.write(`${m.severity} ${where}: ${m.message}\n`);
  }
  process.stdout.write(`${errors === 0 ? "valid" : "invalid"}: ${errors} error(s), ${result.messages.length} message(s)\n`);
  return errors === 0 ? 0 : 1;
}

process.exitCode = main(process.argv);
