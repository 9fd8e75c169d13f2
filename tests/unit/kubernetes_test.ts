// examples/kubernetes/demo.yaml is not applied here (no cluster), so this checks what can be
// checked without one: it parses, and its numbers agree with each other and with the library.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The library's default hook timeout (GracefulOptions.hookTimeout); the demo has one hook. */
const HOOK_TIMEOUT_MS = 5_000;
/** Time for the runtime to exit after the report, and for kubelet's own bookkeeping. */
const MARGIN_MS = 2_000;

// deno-lint-ignore no-explicit-any
type Doc = any;

function manifests(): Doc[] {
  const text = readFileSync(`${ROOT}examples/kubernetes/demo.yaml`, "utf8");
  const docs = parseAllDocuments(text);
  for (const doc of docs) assert.deepEqual(doc.errors, [], "valid YAML");
  return docs.map((doc) => doc.toJS());
}

describe("examples/kubernetes/demo.yaml", () => {
  const [deployment, service] = manifests();
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env = Object.fromEntries(
    container.env.map((e: { name: string; value: string }) => [e.name, Number(e.value)]),
  );

  it("holds a Deployment and a Service that selects its pods", () => {
    assert.equal(deployment.kind, "Deployment");
    assert.equal(service.kind, "Service");
    assert.deepEqual(
      deployment.spec.selector.matchLabels,
      deployment.spec.template.metadata.labels,
    );
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(deployment.spec.template.metadata.labels[key], value);
    }
  });

  it("runs the demo on the port the probes and the Service use", () => {
    assert.ok(existsSync(`${ROOT}${container.command.at(-1)}`), "the command runs a real file");
    const port = container.ports.find((p: { name: string }) => p.name === "http");
    assert.equal(port.containerPort, env.PORT);
    assert.equal(service.spec.ports[0].targetPort, "http");
    assert.equal(container.readinessProbe.httpGet.port, "http");
    assert.equal(container.livenessProbe.httpGet.port, "http");
  });

  it("probes the library's readiness and liveness endpoints (health() defaults)", () => {
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.equal(container.livenessProbe.httpGet.path, "/livez");
    // Liveness must not fail during a drain: it tolerates at least the whole shutdown.
    const { periodSeconds, failureThreshold } = container.livenessProbe;
    assert.ok(periodSeconds * failureThreshold * 1_000 >= env.DRAIN_DELAY_MS);
  });

  it("gives the pod enough grace for the drain delay, the deadline, the hooks and a margin", () => {
    assert.ok(env.DRAIN_DELAY_MS > 0 && env.DRAIN_DELAY_MS < env.SHUTDOWN_TIMEOUT_MS);
    const preStopSleep = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const needed = preStopSleep * 1_000 + env.SHUTDOWN_TIMEOUT_MS + HOOK_TIMEOUT_MS + MARGIN_MS;
    assert.ok(
      pod.terminationGracePeriodSeconds * 1_000 >= needed,
      `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} s < ${needed} ms`,
    );
  });

  it("keeps capacity during a rollout (no pod leaves before its replacement is ready)", () => {
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.ok(deployment.spec.replicas >= 2);
  });
});
