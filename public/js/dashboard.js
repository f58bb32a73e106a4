// @ts-check
/**
 * Keeps the server-rendered dashboard live: every [data-metric] element follows the document,
 * charts update in place (never re-created), the connection indicator tells what is going on.
 */
import { showConnection } from './live-document.js';
import { pageLive, startPageLive } from './page-live.js';

const root = /** @type {HTMLElement} */ (document.querySelector('[data-dashboard]'));

const STATUS = ['todo', 'in_progress', 'blocked', 'done'];
const STATUS_LABELS = ['To do', 'In progress', 'Blocked', 'Done'];
const COLORS = ['#64748b', '#2563eb', '#dc2626', '#16a34a'];

/** @param {any} doc @param {string} path */
const at = (doc, path) =>
  path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), doc);

/** @type {Map<HTMLCanvasElement, any>} */
const charts = new Map();

/** @param {HTMLCanvasElement} canvas @param {any} doc */
function chartData(canvas, doc) {
  const value = at(doc, canvas.dataset.path ?? '') ?? {};
  switch (canvas.dataset.chart) {
    case 'status':
      return {
        labels: STATUS_LABELS,
        datasets: [{ data: STATUS.map((s) => value[s] ?? 0), backgroundColor: COLORS }],
      };
    case 'roles':
      return {
        labels: Object.keys(value),
        datasets: [{ data: Object.values(value), backgroundColor: COLORS }],
      };
    case 'days':
      return {
        labels: Object.keys(value).map((d) => d.slice(5)),
        datasets: [{ label: 'Completed', data: Object.values(value), borderColor: COLORS[1], tension: 0 }],
      };
    default: {
      const projects = Object.values(value);
      return {
        labels: projects.map((p) => p.name),
        datasets: [
          { label: 'Done', data: projects.map((p) => p.done), backgroundColor: COLORS[3] },
          { label: 'Total', data: projects.map((p) => p.total), backgroundColor: COLORS[0] },
        ],
      };
    }
  }
}

/** @param {any} doc */
function renderCharts(doc) {
  const Chart = /** @type {any} */ (globalThis).Chart;
  if (!Chart) return;
  for (const canvas of /** @type {NodeListOf<HTMLCanvasElement>} */ (
    document.querySelectorAll('canvas[data-chart]')
  )) {
    const data = chartData(canvas, doc);
    // A ring of zeros draws nothing but its legend: say so in words instead.
    const ring = canvas.dataset.chart === 'status' || canvas.dataset.chart === 'roles';
    const empty = ring && data.datasets.every((set) => set.data.every((n) => !n));
    const note = /** @type {HTMLElement | null} */ (
      document.querySelector(`[data-chart-empty="${canvas.id}"]`)
    );
    if (note) note.hidden = !empty;
    // After Chart.js, which sets the canvas's display itself when it creates a chart.
    const show = () => {
      canvas.style.display = empty ? 'none' : 'block';
    };
    const existing = charts.get(canvas);
    if (existing) {
      // Update in place: same chart object, new numbers, no animation, no flicker.
      existing.data.labels = data.labels;
      for (const [i, set] of existing.data.datasets.entries()) set.data = data.datasets[i]?.data ?? [];
      existing.update('none');
      show();
      continue;
    }
    const kind = canvas.dataset.chart;
    const type = kind === 'days' ? 'line' : kind === 'projects' ? 'bar' : 'doughnut';
    charts.set(
      canvas,
      new Chart(canvas, {
        type,
        data,
        options: {
          animation: false,
          maintainAspectRatio: false,
          indexAxis: kind === 'projects' ? 'y' : 'x',
          plugins: { legend: { display: kind !== 'days' } },
        },
      }),
    );
    show();
  }
}

/** Rows of the projects table follow the document's projects (added, removed, renamed). */
function renderProjects(/** @type {any} */ doc) {
  const body = document.querySelector('[data-projects]');
  if (!body || !doc.projects) return;
  const ids = Object.keys(doc.projects);
  const shown = [...body.querySelectorAll('tr[data-project]')].map(
    (tr) => /** @type {HTMLElement} */ (tr).dataset.project,
  );
  if (ids.join() === shown.join()) {
    for (const id of ids) {
      const cell = body.querySelector(`tr[data-project="${id}"] td`);
      if (cell) cell.textContent = doc.projects[id].name;
    }
    return;
  }
  body.replaceChildren(
    ...ids.map((id) => {
      const tr = document.createElement('tr');
      tr.dataset.project = id;
      for (const [text, metric] of [
        [doc.projects[id].name, ''],
        ['', `projects.${id}.done`],
        ['', `projects.${id}.total`],
      ]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (metric) td.dataset.metric = metric;
        tr.append(td);
      }
      return tr;
    }),
  );
}

/** @param {any} doc */
function render(doc) {
  if (doc.role !== root.dataset.role) {
    // A role change re-scopes the whole page: reload to get the right tiles and menus.
    location.reload();
    return;
  }
  renderProjects(doc);
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-metric]'))) {
    const value = at(doc, el.dataset.metric ?? '');
    const text = value === undefined ? '' : String(value);
    if (el.textContent !== text) el.textContent = text;
  }
  renderCharts(doc);
}

const live = pageLive();
showConnection(live, root, {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline — showing the last known numbers',
});
live.addEventListener('snapshot', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
live.addEventListener('change', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
startPageLive();
