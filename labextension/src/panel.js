// The "Syft" side panel: the workers, objects and pointers of the active notebook's kernel.
//
// It opens a comm to the kernel's `jupyter_syft.panel` target (jupyter_syft/ipython/panel.py),
// which answers with a snapshot and sends a new one after each cell. A kernel that has not run
// `%load_ext jupyter_syft` closes the comm at once; the panel then says so and tries again each
// time a cell has run (at most once a second), so it fills in by itself after `%load_ext`.
//
// A snapshot (protocol version 3) is the dashboard's board: workers (objects, traffic; plans and
// protocols a worker keeps are rows with a "kind"), the notebook's variables with the path each
// pointer leads along (me -> alice -> bob), plan pointers and protocols (their steps in the order
// they run), and remote models as groups; see jupyter_syft/widgets/snapshot.py. A network worker
// (its objects live in a server process) has a "network" field (address, status, requests) and
// rows from its server's summary, some "private"; the data owner's objects are "owner" rows.
// Secret sharing adds optional fields (the version stays 3): a row that is a share has "share"
// (secret id, k of n), one a crypto provider delivered has "dealt"; the snapshot lists the live
// shared values in "shared" (names, shape, encoding, where each share is), counts the others in
// "more_shared", and says what each crypto provider dealt in "providers" ("fresh" while the
// running cell dealt more).
//
// Everything is drawn with DOM calls and textContent: snapshot data never reaches innerHTML.
import { Widget } from '@lumino/widgets';

export const COMM_TARGET = 'jupyter_syft.panel';
export const PROTOCOL_VERSION = 3;
const LOAD_EXT = '%load_ext jupyter_syft';
export const LOAD_HINT = `Run ${LOAD_EXT} in this notebook to see its workers here.`;
export const NO_NOTEBOOK = 'Open a notebook to see its workers here.';
const RETRY_MS = 1000;

// Connection states:
//   'none'        no notebook
//   'waiting'     a notebook, but its kernel is not ready yet; connect on its next 'idle'
//   'restarting'  the kernel is restarting (or dead); wait until it is reconnected
//   'connecting'  comm opened, no answer yet
//   'connected'   snapshots arrive
//   'absent'      the kernel closed the comm (extension not loaded); retry after each cell
//   'failed'      this kernel connection cannot open comms
//   'hidden'      the panel is not shown: no comm, so the kernel computes nothing for it

export class SyftPanel extends Widget {
  constructor(tracker, icon) {
    super();
    this.id = 'jupyter-syft-panel';
    this.addClass('jsyft-panel');
    this.title.icon = icon;
    this.title.label = 'Syft';
    this.title.caption = 'Syft';

    this._context = null; // the followed notebook's sessionContext
    this._comm = null;
    this._state = 'none';
    this._lastAttempt = 0;
    this._retryTimer = null;
    this._lastJSON = '';

    const header = el('div', 'jsyft-panel-header');
    header.appendChild(el('div', 'jsyft-panel-title', 'Syft'));
    this._status = el('div', 'jsyft-panel-status');
    header.appendChild(this._status);
    this._body = el('div', 'jsyft-panel-body');
    this.node.append(header, this._body);

    tracker.currentChanged.connect((_, notebook) => this._follow(notebook), this);
    this._follow(tracker.currentWidget);
  }

  dispose() {
    if (this.isDisposed) {
      return;
    }
    this._follow(null);
    super.dispose();
  }

  // The comm is open only while the panel is shown: a hidden panel costs the kernel nothing.
  onAfterShow(msg) {
    super.onAfterShow(msg);
    if (this._state === 'connected') {
      this._send({ type: 'refresh' });
    } else if (this._state === 'absent') {
      this._scheduleConnect();
    } else if (this._state === 'hidden') {
      this._connectWhenReady();
    }
  }

  onAfterHide(msg) {
    super.onAfterHide(msg);
    if (this._context) {
      this._disconnect();
      this._state = 'hidden';
    }
  }

  // --- following the notebook and its kernel ---

  _follow(notebook) {
    const context = notebook ? notebook.sessionContext : null;
    if (context === this._context) {
      return;
    }
    if (this._context) {
      this._context.kernelChanged.disconnect(this._onKernelChanged, this);
      this._context.statusChanged.disconnect(this._onStatusChanged, this);
      this._context.iopubMessage.disconnect(this._onIOPub, this);
    }
    this._disconnect();
    this._context = context;
    if (!context) {
      this._state = 'none';
      this._setStatus(NO_NOTEBOOK);
      return;
    }
    context.kernelChanged.connect(this._onKernelChanged, this);
    context.statusChanged.connect(this._onStatusChanged, this);
    context.iopubMessage.connect(this._onIOPub, this);
    this._connectWhenReady();
  }

  _kernel() {
    const session = this._context && this._context.session;
    return session ? session.kernel : null;
  }

  _connectWhenReady() {
    const kernel = this._kernel();
    if (kernel && (kernel.status === 'idle' || kernel.status === 'busy')) {
      this._connect();
    } else {
      this._state = 'waiting';
      this._setStatus('Waiting for the notebook’s kernel…');
    }
  }

  _onKernelChanged() {
    this._disconnect();
    this._connectWhenReady();
  }

  // A restart goes 'restarting', then (old kernel's last messages), then 'unknown' while the
  // connection is re-made, 'starting' from the new kernel, 'idle'. Our comm dies with the old
  // kernel: drop it without a comm_close, and open a new one on the first 'idle' of the new one.
  _onStatusChanged(_, status) {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._disconnect(false);
      this._state = 'restarting';
      this._setStatus(status === 'dead' ? 'The kernel is dead.' : 'The kernel is restarting…');
    } else if (status === 'unknown' || status === 'starting') {
      if (
        this._state === 'restarting' ||
        (status === 'starting' && (this._state === 'connected' || this._state === 'connecting'))
      ) {
        this._disconnect(false);
        this._state = 'waiting';
      }
    } else if (status === 'idle') {
      if (this._state === 'connecting' && this._comm && this._comm.isDisposed) {
        this._state = 'waiting'; // our comm_open was lost (the kernel's comms were cleared)
      }
      if (this._state === 'waiting') {
        this._scheduleConnect();
      }
    }
  }

  // A cell (or any execute request) finished: the user may just have run `%load_ext`. Only
  // execute requests count, so the idle that follows our own comm_open does not retry again.
  _onIOPub(_, msg) {
    if (
      this._state === 'absent' &&
      msg.header.msg_type === 'status' &&
      msg.content.execution_state === 'idle' &&
      msg.parent_header &&
      msg.parent_header.msg_type === 'execute_request'
    ) {
      this._scheduleConnect();
    }
  }

  // --- the comm ---

  // Connect now, or as soon as a second has passed since the last attempt.
  _scheduleConnect() {
    if (this._retryTimer !== null) {
      return;
    }
    const wait = this._lastAttempt + RETRY_MS - Date.now();
    if (wait <= 0) {
      this._connect();
      return;
    }
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._connect();
    }, wait);
  }

  _connect() {
    const retrying = this._state === 'absent';
    this._disconnect();
    if (!this.isVisible) {
      this._state = 'hidden'; // connect when shown
      return;
    }
    const kernel = this._kernel();
    if (!kernel) {
      this._state = 'waiting';
      return;
    }
    this._lastAttempt = Date.now();
    let comm;
    try {
      comm = kernel.createComm(COMM_TARGET);
    } catch (err) {
      this._state = 'failed';
      this._setStatus(`Cannot talk to this kernel: ${err.message}`);
      return;
    }
    comm.onMsg = msg => this._onCommMsg(comm, msg);
    comm.onClose = () => this._onCommClose(comm);
    this._comm = comm;
    this._state = 'connecting';
    if (!retrying) {
      this._setStatus('Connecting to the kernel…');
    }
    try {
      // A future disposed by a restart rejects `done`; nothing is waiting for it.
      comm.open({}).done.catch(() => undefined);
    } catch (err) {
      this._comm = null;
      this._state = 'waiting';
    }
  }

  _onCommMsg(comm, msg) {
    const data = msg.content.data;
    if (comm !== this._comm || !data || data.type !== 'snapshot') {
      return;
    }
    if (data.version !== PROTOCOL_VERSION) {
      this._state = 'connected';
      this._clear();
      this._setStatus(
        `This kernel's jupyter_syft speaks panel protocol ${data.version}, this panel ${PROTOCOL_VERSION}: ` +
          'install the same version in both.'
      );
      return;
    }
    if (this._state !== 'connected') {
      this._state = 'connected';
      this._setStatus(`Kernel: ${this._context.kernelDisplayName}`);
    }
    this._render(data);
  }

  // The kernel closed the comm: no comm target, i.e. `%load_ext jupyter_syft` has not run
  // (or `%unload_ext` just did).
  _onCommClose(comm) {
    if (comm !== this._comm) {
      return;
    }
    this._comm = null;
    this._state = 'absent';
    this._clear();
    this._setStatus(LOAD_HINT);
  }

  _send(data) {
    try {
      this._comm.send(data);
    } catch (err) {
      // the kernel went away; its status change will reconnect
    }
  }

  // Close our comm (if any; `notify` sends the kernel a comm_close) and forget the snapshot.
  // The state is left to the caller.
  _disconnect(notify = true) {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    const comm = this._comm;
    this._comm = null; // first, so that our onClose ignores the close below
    if (comm && !comm.isDisposed) {
      try {
        if (notify) {
          comm.close();
        } else {
          comm.dispose();
        }
      } catch (err) {
        comm.dispose();
      }
    }
    this._clear();
  }

  // --- drawing ---

  // The status line; `%load_ext jupyter_syft` in it is shown as code.
  _setStatus(text) {
    const [before, after] = text.split(LOAD_EXT);
    if (after === undefined) {
      this._status.textContent = text;
    } else {
      this._status.replaceChildren(before, el('code', '', LOAD_EXT), after);
    }
  }

  _clear() {
    this._lastJSON = '';
    this._body.replaceChildren();
  }

  _render(snapshot) {
    const json = JSON.stringify(snapshot);
    if (json === this._lastJSON) {
      return;
    }
    this._lastJSON = json;
    const objects = indexObjects(snapshot.workers || []);
    const sections = [
      section('Variables', snapshot.variables || [], vars =>
        renderVariables(vars, objects, snapshot.more_variables || 0)
      )
    ];
    if ((snapshot.shared || []).length) {
      sections.push(
        section('Shared values', snapshot.shared, shared => renderShared(shared, objects, snapshot.more_shared || 0))
      );
    }
    sections.push(
      section('Workers', snapshot.workers || [], workers =>
        renderWorkers(workers, snapshot.groups || [], snapshot.providers || {})
      )
    );
    this._body.replaceChildren(...sections);
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function section(title, items, render) {
  const node = el('section', 'jsyft-panel-section');
  node.appendChild(el('h3', 'jsyft-panel-heading', title));
  if (items.length === 0) {
    node.appendChild(el('div', 'jsyft-panel-muted', '(none)'));
  } else {
    node.appendChild(render(items));
  }
  return node;
}

export function formatShape(shape) {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

// "bob:12" -> the object row, for the previews at the end of a chain.
function indexObjects(workers) {
  const index = new Map();
  for (const w of workers) {
    for (const r of w.rows) {
      index.set(`${w.worker_id}:${r.id}`, r);
    }
  }
  return index;
}

export function formatBytes(n) {
  if (n < 1000) {
    return `${n} B`;
  }
  for (const [unit, size] of [['kB', 1e3], ['MB', 1e6]]) {
    if (n < size * 1000) {
      return `${(n / size).toFixed(1)} ${unit}`;
    }
  }
  return `${(n / 1e9).toFixed(1)} GB`;
}

// The traffic line: the same words as the dashboard's (render.traffic_lines).
export function trafficLines(t) {
  if (!t || t.messages === undefined) {
    return [];
  }
  const got = t.bytes_got || 0;
  return [
    [`${t.messages} msg${t.messages === 1 ? '' : 's'} · in ${formatBytes(t.bytes_in)} · out ${formatBytes(t.bytes_out)}`, ''],
    [got ? `left via .get(): ${formatBytes(got)}` : 'left via .get(): nothing', got ? 'warn' : 'ok']
  ];
}

// --- secret sharing: the same words as the worker view's and the dashboard's (render.py) ---

export function secretName(id) {
  return `secret #${String(id).slice(-4)}`;
}

function shortEncoding(encoding) {
  return encoding.startsWith('fixed precision') ? 'fixed precision' : encoding;
}

const PART_NAMES = { r: 'mask r', bits: 'mask bits' };

// [badge, tooltip] of a row that is a share, or that a crypto provider delivered.
export function shareBadge(r) {
  if (r.share) {
    const s = r.share;
    return [
      `share ${s.k}/${s.n} of ${secretName(s.secret)}`,
      `share ${s.k} of ${s.n} of secret ${s.secret} (${s.encoding}): random numbers on their own. ` +
        `Only all ${s.n} shares added together (modulo 2**62) give the value; no single worker holds anything meaningful.`
    ];
  }
  const d = r.dealt;
  const part = PART_NAMES[d.part] || d.part;
  return [
    `${part} from ${d.provider}`,
    `${part} for one ${d.kind}, dealt by the crypto provider ${d.provider}: random numbers, shared like a secret, used up by that ${d.kind}.`
  ];
}

export function dealtText(d) {
  return `${plural(d.triples, 'triple')} · ${plural(d.comparisons, 'comparison')}`;
}

// Each shared value once, and where its shares are: one line per worker.
//   x  secret #4439 (2,) integers
//     → bob:1234    share 1/2 [2680459508975648058, …]
//     → alice:5678  share 2/2 [1931226509451739871, …]
function renderShared(shared, objects, more) {
  const list = el('ul', 'jsyft-panel-variables jsyft-panel-shared');
  for (const v of shared) {
    const li = el('li', 'jsyft-panel-variable jsyft-panel-secret');
    li.dataset.secretId = String(v.id);
    const head = el('div', 'jsyft-panel-variable-head');
    const names = v.names.join(', ') + (v.more_names ? `, +${v.more_names}` : '');
    if (names) {
      head.append(el('span', 'jsyft-panel-variable-name', names), ' ');
    }
    head.append(
      el('span', 'jsyft-panel-secret-name', secretName(v.id)),
      el('span', 'jsyft-panel-muted', ` ${formatShape(v.shape)} ${shortEncoding(v.encoding)}`)
    );
    li.appendChild(head);
    v.shares.forEach((s, i) => {
      const row = objects.get(`${s.worker}:${s.id}`);
      const live = s.state === 'live';
      const note = `share ${i + 1}/${v.shares.length}` + (live ? (row ? ` ${row.preview}` : '') : ` ${s.state}`);
      li.appendChild(hopLine(s.worker, s.id, note, live ? 'jsyft-panel-hop-share' : 'jsyft-panel-hop-done'));
    });
    li.title =
      `${names ? names + ' = ' : ''}${secretName(v.id)} (id ${v.id}), ${v.encoding}: each share alone is random numbers; ` +
      'only all of them added together give the value.' +
      (v.crypto_provider ? ` Crypto provider: ${v.crypto_provider}.` : '');
    list.appendChild(li);
  }
  if (more > 0) {
    list.appendChild(el('li', 'jsyft-panel-muted', `+${more} more shared values`));
  }
  return list;
}

// A crypto provider's counters; `fresh`: it dealt during the running cell (the line flashes).
function dealerLine(wid, d) {
  const line = el('div', `jsyft-panel-dealer${d.fresh ? ' jsyft-panel-dealer-fresh' : ''}`);
  line.append(el('span', 'jsyft-panel-dealer-role', 'crypto provider'), ` · ${dealtText(d)}`);
  const parties = d.parties.join(', ') || 'its parties';
  line.title =
    `${wid} is the crypto provider of ${parties}: it dealt ${plural(d.triples, 'Beaver triple')} and masks for ` +
    `${plural(d.comparisons, 'comparison')}. All of it is random, used up once, and holds nothing of the secrets.`;
  return line;
}

function renderWorkers(workers, groups, providers = {}) {
  const list = el('div', 'jsyft-panel-workers');
  for (const w of workers) {
    const node = el('div', 'jsyft-panel-worker');
    node.dataset.workerId = w.worker_id;
    const title = el('div', 'jsyft-panel-worker-title');
    title.appendChild(el('span', 'jsyft-panel-worker-name', w.worker_id));
    node.appendChild(title);
    if (w.gone) {
      title.appendChild(el('span', 'jsyft-panel-gone', ' · worker is gone'));
      list.appendChild(node);
      continue;
    }
    const plural = w.count === 1 ? '' : 's';
    if (!w.network || w.network.status === 'ok') {
      title.appendChild(el('span', 'jsyft-panel-muted', ` · ${w.count} object${plural}`));
    }
    if (w.network) {
      node.classList.add('jsyft-panel-worker-network');
      const net = node.appendChild(el('div', 'jsyft-panel-network', networkLine(w.network)));
      net.title = 'a network worker: its objects live in its server process, listed from the summary it sent after the last cell';
      const trouble = networkStatus(w.network);
      if (trouble) {
        node.appendChild(el('div', 'jsyft-panel-unreachable', trouble));
        list.appendChild(node);
        continue;
      }
    }
    const traffic = el('div', 'jsyft-panel-traffic');
    traffic.title = 'messages this worker served, bytes in and out, and bytes of tensors that left it through .get()';
    for (const [text, cls] of trafficLines(w.traffic)) {
      traffic.appendChild(el('div', cls ? `jsyft-panel-traffic-${cls}` : '', text));
    }
    node.appendChild(traffic);
    if (providers[w.worker_id]) {
      node.appendChild(dealerLine(w.worker_id, providers[w.worker_id]));
    }
    if (w.count === 0) {
      node.appendChild(el('div', 'jsyft-panel-muted', '(empty)'));
      list.appendChild(node);
      continue;
    }
    const rows = new Map(w.rows.map(r => [r.id, r]));
    const grouped = new Set();
    for (const g of groups) {
      if (g.worker_id !== w.worker_id) {
        continue;
      }
      const members = g.params.filter(p => rows.has(p.id));
      members.forEach(p => grouped.add(p.id));
      const box = el('div', 'jsyft-panel-group');
      box.dataset.groupName = g.name;
      const head = el('div', 'jsyft-panel-group-title');
      head.append(el('span', 'jsyft-panel-group-name', g.name), el('span', 'jsyft-panel-muted', ` ${g.type}`));
      box.appendChild(head);
      box.appendChild(renderObjects(members.map(p => ({ ...rows.get(p.id), label: p.name }))));
      node.appendChild(box);
    }
    const loose = w.rows.filter(r => !grouped.has(r.id));
    if (loose.length) {
      node.appendChild(renderObjects(loose));
    }
    const more = w.more !== undefined ? w.more : w.count - w.rows.length;
    if (more > 0) {
      node.appendChild(el('div', 'jsyft-panel-muted jsyft-panel-more', `… and ${more} more`));
    }
    list.appendChild(node);
  }
  return list;
}

// The same words as the dashboard's and the worker view's (render.worker_lines, network_status).
export function networkLine(net) {
  const n = net.requests || 0;
  return `server ${net.address.replace('tcp://', '')} · ${n} request${n === 1 ? '' : 's'}`;
}

export function networkStatus(net) {
  if (net.status === 'unreachable') {
    return `unreachable: ${net.error || 'its server did not answer'}`;
  }
  if (net.status === 'error') {
    return `its server refused the summary: ${net.error}`;
  }
  if (net.status === 'unknown') {
    return 'not asked yet (after the next cell)';
  }
  return '';
}

const GRAD_TITLE = '∇: requires_grad, ∇g: has a .grad';

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// The same words as the worker view's (render.plan_summary, render.protocol_summary).
export function planSummary(r) {
  const state = r.state ? plural(r.state, 'state tensor') : 'no state tensors';
  return `${plural(r.ops, 'op')} · ${r.built ? 'built' : 'not built'} · ${state}`;
}

export function protocolSummary(r) {
  const route = r.steps.map(s => s.worker).join(' → ');
  return `${r.deployed ? 'deployed' : 'not deployed'}: ${route}`;
}

function protocolTip(r) {
  const lines = [`protocol · ${plural(r.plans, 'plan')} · ${protocolSummary(r)}`];
  r.steps.forEach((s, i) => {
    lines.push(s.at ? `${i + 1}. ${s.worker}: plan ${s.at[0]}:${s.at[1]}` : `${i + 1}. ${s.worker}: plan ${s.plan}`);
  });
  return lines.join('\n');
}

// A plan or a protocol a worker keeps: what it is, in the tensor columns' place.
function kindCells(tr, r) {
  tr.classList.add(`jsyft-panel-${r.kind}`);
  tr.dataset.kind = r.kind;
  tr.appendChild(el('td', 'jsyft-dtype jsyft-kind', r.kind));
  if (r.kind === 'plan') {
    tr.appendChild(el('td', 'jsyft-shape jsyft-plan-name', r.name));
    tr.appendChild(el('td', 'jsyft-grad', ''));
    tr.appendChild(el('td', 'jsyft-value', planSummary(r)));
    tr.title = r.code || r.name;
  } else {
    tr.appendChild(el('td', 'jsyft-shape', plural(r.plans, 'plan')));
    tr.appendChild(el('td', 'jsyft-grad', ''));
    tr.appendChild(el('td', 'jsyft-value', protocolSummary(r)));
    tr.title = protocolTip(r);
  }
  if (r.tags && r.tags.length) {
    tr.title += `\ntags: ${r.tags.join(', ')}`;
  }
}

function renderObjects(rows) {
  const table = el('table', 'jsyft-panel-objects');
  const head = el('tr');
  for (const [name, label] of [['id'], ['dtype'], ['shape'], ['grad', '∇'], ['value']]) {
    head.appendChild(el('th', `jsyft-head-${name}`, label || name));
  }
  head.querySelector('.jsyft-head-grad').title = GRAD_TITLE;
  table.appendChild(el('thead')).appendChild(head);
  const body = table.appendChild(el('tbody'));
  for (const r of rows) {
    const tr = el('tr', 'jsyft-panel-object');
    tr.dataset.objectId = String(r.id);
    if (r.tags && r.tags.length) {
      tr.title = `tags: ${r.tags.join(', ')}`;
    }
    const id = tr.appendChild(el('td', 'jsyft-id', r.label || String(r.id)));
    if (r.kind === 'plan' || r.kind === 'protocol') {
      kindCells(tr, r);
      body.appendChild(tr);
      continue;
    }
    if (r.label) {
      id.classList.add('jsyft-param');
      id.title = String(r.id);
    }
    if (r.pointer) {
      tr.classList.add('jsyft-panel-object-pointer'); // a link of a chain
    }
    let badge = null;
    if (r.share || r.dealt) {
      const [text, tip] = shareBadge(r);
      const kind = r.share ? 'share' : 'dealt';
      tr.classList.add(`jsyft-panel-object-${kind}`);
      tr.title = tip;
      badge = el('span', `jsyft-panel-badge jsyft-panel-badge-${kind}`, text);
    }
    if (r.private) {
      tr.classList.add('jsyft-panel-object-private');
      tr.title = 'private: it computes there, it never leaves';
    } else if (r.owner) {
      tr.classList.add('jsyft-panel-object-owner');
      tr.title = "the data owner's: compute on it; it cannot be changed or taken home";
    }
    tr.appendChild(el('td', 'jsyft-dtype', r.dtype));
    tr.appendChild(el('td', 'jsyft-shape', formatShape(r.shape)));
    const grad = tr.appendChild(el('td', 'jsyft-grad', r.grad ? '∇g' : r.requires_grad ? '∇' : ''));
    grad.title = GRAD_TITLE;
    const value = tr.appendChild(el('td', 'jsyft-value', r.preview));
    value.title = r.preview;
    if (badge) {
      value.prepend(badge, ' ');
      value.append(' ', el('span', 'jsyft-panel-hint', '· meaningless alone'));
      value.title = tr.title;
    }
    body.appendChild(tr);
  }
  return table;
}

// Each variable, and where it leads: one line per hop, as on the dashboard's arrows.
//   pointer_to_x_ptr  (4,) int64
//     → alice:1234  pointer
//     → bob:5678    [1, 2, 3, 4]
function renderVariables(variables, objects, more) {
  const list = el('ul', 'jsyft-panel-variables');
  for (const v of variables) {
    const li = el('li', 'jsyft-panel-variable');
    li.dataset.variableName = v.name;
    li.dataset.kind = v.kind;
    const head = el('div', 'jsyft-panel-variable-head');
    head.appendChild(el('span', 'jsyft-panel-variable-name', v.name));
    li.appendChild(head);
    if (v.kind === 'plan_pointer' || v.kind === 'protocol_pointer') {
      head.appendChild(el('span', 'jsyft-panel-muted', v.kind === 'plan_pointer' ? ` ${v.type} ${v.plan}` : ` ${v.type}`));
      if (v.state !== 'live') {
        li.classList.add('jsyft-panel-variable-done');
        head.append(' ', el('span', `jsyft-state jsyft-state-${v.state}`, v.state));
      }
      renderPath(li, v, objects);
    } else if (v.kind === 'protocol') {
      renderProtocol(li, head, v, objects);
    } else if (v.kind === 'model') {
      head.appendChild(el('span', 'jsyft-panel-muted', ` ${v.type}`));
      const byWorker = new Map();
      for (const p of v.params) {
        if (p.state === 'live') {
          const wid = p.path[1][0];
          byWorker.set(wid, [...(byWorker.get(wid) || []), p.name]);
        }
      }
      for (const [wid, names] of byWorker) {
        li.appendChild(hopLine(wid, null, names.join(', '), 'jsyft-panel-hop-group'));
      }
    } else if (v.kind === 'multi') {
      head.appendChild(el('span', 'jsyft-panel-muted', ` multi-pointer ${formatShape(v.shape)} ${v.dtype}`));
      for (const p of v.pointers) {
        renderPath(li, p, objects);
      }
    } else {
      const attr = v.attr ? `.${v.attr} of ` : '';
      head.appendChild(el('span', 'jsyft-panel-muted', ` ${attr}${formatShape(v.shape)} ${v.dtype}`));
      if (v.state !== 'live') {
        li.classList.add('jsyft-panel-variable-done'); // its object is no longer on the worker
        head.append(' ', el('span', `jsyft-state jsyft-state-${v.state}`, v.state));
      }
      renderPath(li, v, objects);
    }
    li.title = tooltip(v);
    list.appendChild(li);
  }
  if (more > 0) {
    list.appendChild(el('li', 'jsyft-panel-muted', `… and ${more} more`));
  }
  return list;
}

// What a hop's target is, in a few words: a tensor's values, a plan's name and size.
function describe(row) {
  if (!row) {
    return '';
  }
  if (row.kind === 'plan') {
    return `plan ${row.name} · ${plural(row.ops, 'op')}`;
  }
  if (row.kind === 'protocol') {
    return `protocol · ${protocolSummary(row)}`;
  }
  return row.preview;
}

// A protocol: its steps in the order they run. Deployed, `protocol.run(x)` sends x to step 1's
// worker, runs its plan there and moves the result on: one numbered line per step, each on the
// plan it runs. Not deployed: the fictive workers' names. Sent to a worker: a hop to it first.
//   protocol  Protocol
//     1 alice:1234  inc1
//     2 bob:5678    inc2
function renderProtocol(li, head, v, objects) {
  head.appendChild(el('span', 'jsyft-panel-muted', ` ${v.type}${v.deployed ? '' : ' · not deployed'}`));
  if (v.at) {
    renderPath(li, v.at, objects);
  }
  v.steps.forEach((s, i) => {
    const line = el('div', 'jsyft-panel-step');
    line.dataset.step = String(i + 1);
    line.dataset.workerId = s.worker;
    line.appendChild(el('span', 'jsyft-panel-step-number', String(i + 1)));
    const target = el('span', 'jsyft-panel-hop-target');
    target.append(el('span', 'jsyft-panel-hop-worker', s.worker));
    if (s.path) {
      const id = s.path[1][1];
      line.dataset.objectId = String(id);
      target.append(el('span', 'jsyft-panel-muted', `:${id}`));
    }
    line.append(' ', target, ' ', el('span', 'jsyft-panel-hop-note', s.plan));
    if (s.path && (s.state !== 'live' || s.end !== 'plan')) {
      line.classList.add('jsyft-panel-hop-missing');
      line.append(' ', el('span', 'jsyft-panel-step-end', s.end === 'gone' ? 'worker gone' : s.end));
    } else if (!s.path) {
      line.classList.add('jsyft-panel-step-fictive');
    }
    li.appendChild(line);
  });
}

function renderPath(li, p, objects) {
  const hops = p.path.slice(1);
  hops.forEach(([wid, id], i) => {
    const last = i === hops.length - 1;
    const row = objects.get(`${wid}:${id}`);
    let note = '';
    let cls = '';
    if (p.state !== 'live') {
      cls = 'jsyft-panel-hop-done';
    } else if (!last) {
      note = 'pointer';
      cls = 'jsyft-panel-hop-pointer';
    } else if (p.end === 'tensor' || p.end === 'plan' || p.end === 'protocol') {
      note = describe(row);
    } else {
      note = p.end === 'gone' ? 'worker gone' : p.end;
      cls = 'jsyft-panel-hop-missing';
    }
    li.appendChild(hopLine(wid, id, note, cls));
  });
}

function hopLine(workerId, objectId, note, cls) {
  const line = el('div', `jsyft-panel-hop ${cls || ''}`.trim());
  line.dataset.workerId = workerId;
  const target = el('span', 'jsyft-panel-hop-target');
  target.append(el('span', 'jsyft-panel-hop-worker', workerId));
  if (objectId !== null) {
    line.dataset.objectId = String(objectId);
    target.append(el('span', 'jsyft-panel-muted', `:${objectId}`));
  }
  line.append(el('span', 'jsyft-panel-arrow', '→ '), target);
  if (note) {
    line.append(' ', el('span', 'jsyft-panel-hop-note', note));
  }
  return line;
}

function tooltip(v) {
  const chain = p => p.path.map(([w, i]) => `${w}:${i}`).join(' → ');
  if (v.kind === 'model') {
    return `${v.name} = ${v.type}: ` + v.params.map(p => `${p.name} → ${p.path[1][0]}:${p.path[1][1]}`).join(', ');
  }
  if (v.kind === 'multi') {
    return `${v.name}: ` + v.pointers.map(chain).join(', ');
  }
  if (v.kind === 'protocol') {
    const steps = v.steps.map(s => `${s.worker}: ${s.plan}`).join(', ');
    if (v.at) {
      return `${v.name} = Protocol, kept by ${v.at.path[1][0]}: ${steps}`;
    }
    if (!v.deployed) {
      return `${v.name} = Protocol, not deployed: ${steps}`;
    }
    return `${v.name}.run(x): x goes to ` + v.steps.map(s => `${s.worker} (${s.plan})`).join(', then ');
  }
  return `${v.name}: ${chain(v)}`;
}
