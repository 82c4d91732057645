// The official AWS SDK for JavaScript v3, used by test_aws_sdk.py to check the fake and the plugin against AWS's
// own implementation: `node aws_sdk_check.mjs <mode> <json args>`; prints one JSON object.
//   calls: Converse / ConverseStream against the fake (endpoint, region, keys) and the errors it parses
//   sign:  @smithy/signature-v4's Authorization header for a given request and date
import { createHash, createHmac } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(`${process.env.AWS_SDK_NODE_MODULES}/`);
const [mode, raw] = process.argv.slice(2);
const args = JSON.parse(raw);

class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", Buffer.from(secret)) : createHash("sha256");
  }
  update(data) {
    this.hash.update(typeof data === "string" ? Buffer.from(data) : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

async function sign() {
  const { SignatureV4 } = require("@smithy/signature-v4");
  const signer = new SignatureV4({
    service: "bedrock",
    region: args.region,
    credentials: { accessKeyId: args.akid, secretAccessKey: args.secret, sessionToken: args.token },
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: true,
  });
  const signed = await signer.sign(
    { method: "POST", protocol: "https:", hostname: args.host, path: args.path, query: {}, headers: args.headers, body: args.body },
    { signingDate: new Date(args.date) },
  );
  return { authorization: signed.headers.authorization, headers: signed.headers };
}

async function calls() {
  const { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } = require("@aws-sdk/client-bedrock-runtime");
  const { NodeHttpHandler } = require("@smithy/node-http-handler");
  const client = (secret) =>
    new BedrockRuntimeClient({
      endpoint: args.endpoint,
      region: args.region,
      credentials: { accessKeyId: args.akid, secretAccessKey: secret },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(), // the fake speaks HTTP/1.1; the SDK's default is HTTP/2
    });
  const input = (modelId) => ({
    modelId,
    system: [{ text: "Be brief" }],
    messages: [{ role: "user", content: [{ text: "hello there" }] }],
  });
  const error = async (promise) => {
    try {
      await promise;
      return null;
    } catch (e) {
      return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
    }
  };
  const out = {};
  const reply = await client(args.secret).send(new ConverseCommand(input(args.model)));
  out.converse = { text: reply.output.message.content[0].text, usage: reply.usage, stopReason: reply.stopReason };
  const streamed = await client(args.secret).send(new ConverseStreamCommand(input(`${args.model}-reasoning`)));
  out.events = [];
  for await (const event of streamed.stream) {
    const delta = event.contentBlockDelta?.delta?.reasoningContent;
    if (delta?.redactedContent) delta.redactedContent = Buffer.from(delta.redactedContent).toString("utf8");
    out.events.push(event);
  }
  out.wrongSecret = await error(client("wrong").send(new ConverseCommand(input(args.model))));
  out.throttled = await error(client(args.secret).send(new ConverseCommand(input(`${args.model}-fail-429`))));
  out.streamError = await error(
    (async () => {
      const s = await client(args.secret).send(new ConverseStreamCommand(input(`${args.model}-stream-error`)));
      for await (const _ of s.stream);
    })(),
  );
  return out;
}

console.log(JSON.stringify(mode === "sign" ? await sign() : await calls()));
