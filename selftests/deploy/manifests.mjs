#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// manifests.mjs — offline validation of deploy/kubernetes/ (make deploy-check).
//
//  1. schema: every object against the Kubernetes JSON schemas bundled in the
//     npm package kubernetes-models (the OpenAPI of Kubernetes 1.3x: types,
//     required fields, formats, enums), and ServiceMonitor/PrometheusRule
//     against @kubernetes-models/prometheus-operator's CRD schemas;
//  2. strict: no unknown field (k8s_strict.py, python3-kubernetes' field
//     lists), since the schemas, like the API server, accept them;
//  3. the validators themselves reject broken copies (a wrong type, a
//     missing required field, a misspelt field), so a pass means something;
//  4. the deployment contract: the DaemonSet's privileges are exactly the
//     measured ones (selftests/deploy/caps.sh), probes hit /healthz, limits
//     and tolerations are set, and Service, ServiceMonitor, pod annotations
//     and scrape configs agree on labels, port and job name;
//  5. prometheusrule.yaml holds exactly deploy/prometheus/mcpwire-alerts.yml
//     (--update rewrites it from there).
// Prints TAP and "N passed, N failed".

import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Service } from 'kubernetes-models/v1/Service';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const K8S = join(ROOT, 'deploy', 'kubernetes');
const ALERTS = join(ROOT, 'deploy', 'prometheus', 'mcpwire-alerts.yml');
const RULE_FILE = join(K8S, 'prometheusrule.yaml');
const MODELS = {
	'v1/Namespace': Namespace,
	'v1/ServiceAccount': ServiceAccount,
	'v1/Service': Service,
	'apps/v1/DaemonSet': DaemonSet,
	'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
	'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
	'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
	'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function prometheusRule() {
	const groups = parseYaml(readFileSync(ALERTS, 'utf8')).groups;
	return {
		apiVersion: 'monitoring.coreos.com/v1',
		kind: 'PrometheusRule',
		metadata: { name: 'mcpwire', namespace: 'mcpwire', labels: { 'app.kubernetes.io/name': 'mcpwire' } },
		spec: { groups },
	};
}

if (process.argv.includes('--update')) {
	writeFileSync(RULE_FILE, '# SPDX-License-Identifier: GPL-2.0-only\n' +
		'# Generated from deploy/prometheus/mcpwire-alerts.yml (comments there) by\n' +
		'#   node selftests/deploy/manifests.mjs --update\n' +
		'# Do not edit: make deploy-check fails when the two differ.\n' +
		stringify(prometheusRule(), { lineWidth: 0 }));
	console.log(`wrote ${RULE_FILE}`);
	process.exit(0);
}

let n = 0, pass = 0, fail = 0;
function check(name, errors) {
	n++;
	if (errors.length === 0) { pass++; console.log(`ok ${n} - ${name}`); return; }
	fail++;
	console.log(`not ok ${n} - ${name}`);
	for (const e of errors) console.log(`#   ${e}`);
}

const schemaErrors = (obj) => {
	const M = MODELS[`${obj.apiVersion}/${obj.kind}`];
	if (!M) return [`no schema known for ${obj.apiVersion} ${obj.kind}`];
	try { new M(obj).validate(); return []; } catch (e) {
		return (e.errors || [e]).map((x) => x.instancePath !== undefined ? `${x.instancePath || '/'} ${x.message} ${JSON.stringify(x.params)}` : String(x.message || x));
	}
};
const strictErrors = (objs) => {
	const out = execFileSync('/usr/bin/python3', [join(HERE, 'k8s_strict.py')], { input: JSON.stringify(objs), encoding: 'utf8' });
	const by = objs.map(() => []);
	for (const l of out.split('\n').filter(Boolean)) { const [i, p, m] = l.split('\t'); by[+i].push(`${p}: ${m}`); }
	return by;
};

// ---------------------------------------------------------------- load
const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
const objs = [], where = [];
for (const f of files) {
	const docs = parseAllDocuments(readFileSync(join(K8S, f), 'utf8'));
	const errs = docs.flatMap((d) => d.errors.map((e) => e.message));
	check(`${f}: parses as YAML`, errs);
	for (const d of docs) { const o = d.toJS(); if (o) { objs.push(o); where.push(f); } }
}
const kust = parseYaml(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'));
check('kustomization.yaml lists every manifest, and only existing ones',
	[...files.filter((f) => !kust.resources.includes(f)).map((f) => `${f} not listed`),
	 ...kust.resources.filter((f) => !existsSync(join(K8S, f))).map((f) => `${f} listed, missing`)]);

// ---------------------------------------------------------- 1, 2: schemas
const strict = strictErrors(objs);
objs.forEach((o, i) => {
	const id = `${where[i]}: ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
	check(`${id} valid against the ${o.apiVersion} ${o.kind} schema`, schemaErrors(o));
	if (!o.apiVersion.startsWith('monitoring.coreos.com'))
		check(`${id} has no unknown field (strict)`, strict[i]);
});

// ------------------------------------------------ 3: validators do reject
const get = (kind) => objs.find((o) => o.kind === kind);
const ds = get('DaemonSet'), svc = get('Service'), sm = get('ServiceMonitor');
const clone = (o) => structuredClone(o);
{
	const bad = clone(ds); bad.spec.template.spec.containers[0].ports[0].containerPort = 'nine';
	check('schema check rejects a DaemonSet with containerPort: "nine"', schemaErrors(bad).length ? [] : ['accepted']);
	const bad2 = clone(ds); delete bad2.spec.selector;
	check('schema check rejects a DaemonSet without spec.selector', schemaErrors(bad2).length ? [] : ['accepted']);
	const bad3 = clone(sm); bad3.spec.endpoints[0].interval = 15;
	check('schema check rejects a ServiceMonitor with interval: 15 (not a duration string)', schemaErrors(bad3).length ? [] : ['accepted']);
	const bad4 = clone(ds); bad4.spec.template.spec.containers[0].volumeMounts[0].readonly = true;
	const bad5 = clone(ds); bad5.spec.template.spec.hostPid = true;
	const s = strictErrors([bad4, bad5]);
	check('strict check rejects volumeMounts[].readonly and spec.hostPid (misspelt)',
		[s[0].length ? null : 'readonly accepted', s[1].length ? null : 'hostPid accepted'].filter(Boolean));
}

// ------------------------------------------------------------ 4: contract
const pod = ds.spec.template.spec;
const c = pod.containers[0];
const sc = c.securityContext;
const e = [];
if (pod.hostPID !== true) e.push('hostPID is not true');
if (pod.hostNetwork) e.push('hostNetwork is set (not needed today)');
if (sc.privileged !== false) e.push('privileged must be false');
if (sc.allowPrivilegeEscalation !== false) e.push('allowPrivilegeEscalation must be false');
if (sc.readOnlyRootFilesystem !== true) e.push('readOnlyRootFilesystem must be true');
if (sc.runAsUser !== 0) e.push('runAsUser must be 0 (tracefs is 0700 root)');
if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') e.push(`capabilities.drop ${JSON.stringify(sc.capabilities?.drop)} != ["ALL"]`);
if (JSON.stringify([...(sc.capabilities?.add ?? [])].sort()) !== '["BPF","PERFMON"]') e.push(`capabilities.add ${JSON.stringify(sc.capabilities?.add)} != [BPF, PERFMON]`);
check('DaemonSet: hostPID, not privileged, uid 0 with exactly CAP_BPF+CAP_PERFMON, no escalation, read-only root', e);

const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m]));
const vols = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
const e2 = [];
for (const p of ['/sys/kernel/btf', '/sys/kernel/tracing']) {
	const m = mounts[p];
	if (!m) { e2.push(`no mount at ${p}`); continue; }
	if (vols[m.name]?.hostPath?.path !== p) e2.push(`${p} is not the host's ${p}`);
	if (m.readOnly !== true) e2.push(`${p} is not readOnly`);
}
for (const m of c.volumeMounts) if (m.readOnly !== true) e2.push(`${m.mountPath} is writable`);
check('DaemonSet: host /sys/kernel/btf and /sys/kernel/tracing mounted read-only, nothing writable', e2);

const e3 = [];
const port = c.ports.find((p) => p.name === 'metrics');
if (port?.containerPort !== 9473) e3.push('no container port "metrics" 9473');
if (!c.args.join(' ').includes(':9473')) e3.push(`args ${c.args} do not listen on :9473`);
for (const k of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
	const h = c[k]?.httpGet;
	if (h?.path !== '/healthz' || (h.port !== 'metrics' && h.port !== 9473)) e3.push(`${k} is not GET /healthz on the metrics port`);
}
for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) if (!c.resources?.[k]?.[r]) e3.push(`resources.${k}.${r} missing`);
if (!pod.tolerations?.some((t) => t.operator === 'Exists' && !t.key && !t.effect)) e3.push('no toleration of every taint (operator: Exists, no key)');
check('DaemonSet: probes on /healthz, resource requests and limits, tolerates every taint', e3);

const labels = ds.spec.template.metadata.labels;
const matches = (sel, l) => Object.entries(sel).every(([k, v]) => l[k] === v);
const e4 = [];
if (!matches(ds.spec.selector.matchLabels, labels)) e4.push('DaemonSet selector does not match its pod labels');
if (!matches(svc.spec.selector, labels)) e4.push('Service selector does not match the pods');
if (svc.metadata.name !== 'mcpwire') e4.push('Service name (the job label) is not "mcpwire"');
if (!svc.spec.ports.some((p) => p.name === 'metrics' && p.port === 9473 && p.targetPort === 'metrics')) e4.push('Service has no port "metrics" 9473 -> metrics');
if (!matches(sm.spec.selector.matchLabels, svc.metadata.labels)) e4.push('ServiceMonitor selector does not match the Service');
if (!sm.spec.namespaceSelector.matchNames.includes(svc.metadata.namespace)) e4.push('ServiceMonitor does not look in the Service namespace');
if (!sm.spec.endpoints.some((p) => p.port === 'metrics')) e4.push('ServiceMonitor endpoint port is not "metrics"');
const ann = ds.spec.template.metadata.annotations;
if (ann['prometheus.io/scrape'] !== 'true' || ann['prometheus.io/port'] !== '9473') e4.push('pod annotations prometheus.io/scrape|port wrong');
const ksd = readFileSync(join(ROOT, 'deploy', 'prometheus', 'scrape-kubernetes.yml'), 'utf8');
const ksdc = parseYaml(ksd).scrape_configs[0];
if (ksdc.job_name !== 'mcpwire') e4.push('scrape-kubernetes.yml job_name is not mcpwire');
const selLabel = ksdc.kubernetes_sd_configs[0].selectors[0].label;
const [lk, lv] = selLabel.split('=');
if (labels[lk] !== lv) e4.push(`scrape-kubernetes.yml selects ${selLabel}, pods are ${JSON.stringify(labels)}`);
if (!ksdc.kubernetes_sd_configs[0].namespaces.names.includes(ds.metadata.namespace)) e4.push('scrape-kubernetes.yml looks in another namespace');
const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
for (const o of objs) if (!clusterScoped.includes(o.kind) && o.metadata.namespace !== 'mcpwire') e4.push(`${o.kind} ${o.metadata.name} not in namespace mcpwire`);
check('DaemonSet, Service, ServiceMonitor, pod annotations and scrape-kubernetes.yml agree (labels, port 9473, job "mcpwire", namespace)', e4);

// attribution: the kubelet's /pods with the pod's token, and no more than that
{
	const e5 = [];
	const env = Object.fromEntries((c.env ?? []).map((v) => [v.name, v.valueFrom?.fieldRef?.fieldPath]));
	if (env.NODE_NAME !== 'spec.nodeName') e5.push('env NODE_NAME is not the downward API spec.nodeName');
	if (env.NODE_IP !== 'status.hostIP') e5.push('env NODE_IP is not the downward API status.hostIP');
	if (pod.automountServiceAccountToken !== true) e5.push('the pod does not mount its service-account token');
	const cr = get('ClusterRole'), crb = get('ClusterRoleBinding');
	const rules = JSON.stringify(cr?.rules ?? []);
	if (rules !== JSON.stringify([{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }])) e5.push(`ClusterRole rules ${rules} are not exactly get nodes/proxy`);
	if (crb?.roleRef?.name !== cr?.metadata?.name || crb?.roleRef?.kind !== 'ClusterRole') e5.push('ClusterRoleBinding does not bind the ClusterRole');
	if (JSON.stringify(crb?.subjects) !== JSON.stringify([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: ds.metadata.namespace }])) e5.push(`ClusterRoleBinding subjects ${JSON.stringify(crb?.subjects)} are not exactly the DaemonSet's service account`);
	check('attribution: NODE_NAME/NODE_IP from the downward API, token mounted, RBAC exactly get nodes/proxy for mcpwire\'s service account', e5);
}

// ------------------------------------------------------- 5: PrometheusRule
const pr = get('PrometheusRule');
check('prometheusrule.yaml holds exactly deploy/prometheus/mcpwire-alerts.yml (else: node selftests/deploy/manifests.mjs --update)',
	JSON.stringify(pr?.spec) === JSON.stringify(prometheusRule().spec) ? [] : ['differs']);

console.log(`1..${n}`);
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
