// Reads BPMN files with bpmn-moddle (the parser of bpmn.io and Camunda Modeler) and writes them back with
// toXML, as a modeler's save does. Prints one JSON object: {file: {warnings: [...], xml: "..."}}.
// Usage: node tests/processes/moddle_roundtrip.mjs FILE...
import { readFile } from "node:fs/promises";
import { BpmnModdle } from "bpmn-moddle";

const moddle = new BpmnModdle();
const out = {};
for (const file of process.argv.slice(2)) {
  const text = await readFile(file, "utf8");
  try {
    const { rootElement, warnings } = await moddle.fromXML(text, "bpmn:Definitions");
    const { xml } = await moddle.toXML(rootElement, { format: true });
    out[file] = { warnings: warnings.map((w) => w.message), xml };
  } catch (err) {
    out[file] = { warnings: [`error: ${err.message}`], xml: null };
  }
}
process.stdout.write(JSON.stringify(out));
