/**
 * The training report: one self-contained HTML file (Chart.js inlined, thumbnails as data: URLs)
 * that opens in any browser without a network.
 */
import { histogram, type ReportData, thin } from './data.js';

const BINS = 20;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe to embed in a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

export function renderReport(data: ReportData, chartJs: string): string {
  const labels = Array.from({ length: BINS }, (_, i) => ((i + 0.5) / BINS).toFixed(3));
  const charts = {
    history: data.history,
    roc: thin(data.roc, 400),
    hist: {
      labels,
      same: histogram(data.scores.same, BINS),
      different: histogram(data.scores.different, BINS),
    },
    threshold: data.threshold,
  };
  const rows = data.summary
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const checks = data.checks
    .map(
      (c) =>
        `<li class="${c.ok ? 'ok' : 'warn'}">${c.ok ? '✓' : '⚠'} <b>${escapeHtml(c.name)}</b>: ${escapeHtml(c.detail)}</li>`,
    )
    .join('');
  const mistakes = data.mistakes
    .map(
      (
        m,
      ) => `<figure><div><img src="${m.a}" alt="${escapeHtml(m.aName)}"><img src="${m.b}" alt="${escapeHtml(m.bName)}"></div>
<figcaption>${escapeHtml(m.kind)} · p = ${m.score.toFixed(3)}<br><small>${escapeHtml(m.aName)} · ${escapeHtml(m.bName)}</small></figcaption></figure>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse}th,td{padding:.25rem .75rem;border-bottom:1px solid #eee;text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:1.5rem}
.chart{position:relative;height:280px}
li.ok{color:#176c2c}li.warn{color:#9a5b00}ul.checks{list-style:none;padding:0}
.mistakes{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0;text-align:center}
figure img{width:72px;height:72px;image-rendering:pixelated;border:1px solid #ccc;margin:1px}
</style></head><body>
<h1>${escapeHtml(data.title)}</h1><p><small>${escapeHtml(data.createdAt)}</small></p>
<table>${rows}</table>
<h2>Sanity checks</h2><ul class="checks">${checks}</ul>
<h2>Training</h2>
<div class="grid"><div class="chart"><canvas id="loss"></canvas></div><div class="chart"><canvas id="quality"></canvas></div></div>
<h2>Validation</h2>
<div class="grid"><div class="chart"><canvas id="roc"></canvas></div><div class="chart"><canvas id="hist"></canvas></div></div>
<h2>Hardest mistakes</h2>
<div class="mistakes">${mistakes || '<p>No mistakes on the validation pairs.</p>'}</div>
<script>${chartJs}</script>
<script>
// A report is read, not watched: draw every chart in its final state at once.
Chart.defaults.animation = false;
const D = ${scriptJson(charts)};
const epochs = D.history.map(h => h.epoch);
const line = (label, data, color) => ({ label, data, borderColor: color, backgroundColor: color, tension: .2, pointRadius: 2 });
new Chart(document.getElementById('loss'), { type: 'line', data: { labels: epochs, datasets: [
  line('train loss', D.history.map(h => h.trainLoss), '#1f77b4'),
  line('validation loss', D.history.map(h => h.valLoss ?? null), '#ff7f0e') ] },
  options: { maintainAspectRatio: false, plugins: { title: { display: true, text: 'Loss per epoch' } }, scales: { x: { title: { display: true, text: 'epoch' } } } } });
new Chart(document.getElementById('quality'), { type: 'line', data: { labels: epochs, datasets: [
  line('pair accuracy (at EER threshold)', D.history.map(h => h.accuracy ?? null), '#2ca02c'),
  line('ROC AUC', D.history.map(h => h.auc ?? null), '#9467bd') ] },
  options: { maintainAspectRatio: false, plugins: { title: { display: true, text: 'Validation accuracy and AUC' } }, scales: { x: { title: { display: true, text: 'epoch' } } } } });
new Chart(document.getElementById('roc'), { type: 'scatter', data: { datasets: [
  { label: 'ROC', data: D.roc.map(p => ({ x: p.far, y: p.tar })), showLine: true, borderColor: '#d62728', pointRadius: 0 },
  { label: 'chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true, borderColor: '#bbb', borderDash: [4, 4], pointRadius: 0 } ] },
  options: { maintainAspectRatio: false, plugins: { title: { display: true, text: 'ROC curve (validation pairs)' } },
    scales: { x: { min: 0, max: 1, title: { display: true, text: 'false-accept rate' } }, y: { min: 0, max: 1, title: { display: true, text: 'true-accept rate' } } } } });
const tIndex = Math.min(${BINS - 1}, Math.floor(D.threshold * ${BINS}));
new Chart(document.getElementById('hist'), { type: 'bar', data: { labels: D.hist.labels, datasets: [
  { label: 'same pairs', data: D.hist.same, backgroundColor: 'rgba(44,160,44,.6)' },
  { label: 'different pairs', data: D.hist.different, backgroundColor: 'rgba(214,39,40,.6)' },
  { type: 'line', label: 'threshold ' + D.threshold.toFixed(3), data: D.hist.labels.map((_, i) => i === tIndex ? Math.max(...D.hist.same, ...D.hist.different) : null),
    borderColor: '#000', backgroundColor: '#000', pointStyle: 'line', rotation: 90, pointRadius: 40, borderWidth: 2, showLine: false } ] },
  options: { maintainAspectRatio: false, plugins: { title: { display: true, text: 'Scores of validation pairs' } },
    scales: { x: { title: { display: true, text: 'match probability' } }, y: { title: { display: true, text: 'pairs' } } } } });
</script></body></html>
`;
}
