// ModernTensor explorer: a read-only single page over the node's RPC (proxied at /rpc/).
"use strict";

const view = document.getElementById("view");

async function rpc(method, params = {}) {
  const q = new URLSearchParams(params).toString();
  const resp = await fetch(`/rpc/${method}` + (q ? `?${q}` : ""));
  const body = await resp.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function query(path) {
  const r = await rpc("abci_query", { path: JSON.stringify(path) });
  if (r.response.code) throw new Error(`${path}: code ${r.response.code}: ${r.response.log}`);
  return JSON.parse(atob(r.response.value));
}

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
// amounts are exact: base units as BigInt (a float would round balances above 2^53)
const mdt = (base) => {
  const b = BigInt(base);
  const frac = (b % 1000000000n).toString().padStart(9, "0").replace(/0+$/, "");
  return (b / 1000000000n).toLocaleString("en-US") + (frac ? "." + frac : "") + " MDT";
};
const frac = (u16) => (u16 / 65535).toFixed(4);
const acct = (a) => `<a class="mono" href="#/account/${esc(a)}">${esc(a)}</a>`;

function attrs(events, type) {
  const ev = (events || []).find((e) => e.type === type);
  const out = {};
  for (const a of ev ? ev.attributes : []) out[a.key] = a.value;
  return out;
}

function txRows(txs) {
  return txs.map((t) => {
    const res = t.tx_result;
    const msg = attrs(res.events, "message").action || "(failed)";
    const tr = attrs(res.events, "transfer");
    const what = tr.sender ? `${acct(tr.sender)} → ${acct(tr.recipient)} ${mdt(tr.amount)}` : "";
    const code = res.code ? `<span class="bad">code ${res.code}</span>` : "ok";
    return `<tr class="tx" data-hash="${t.hash}"><td class="mono">${t.hash}</td><td>${t.height}</td><td>${esc(msg)}</td><td>${code}</td><td>${what}</td></tr>`;
  }).join("");
}

const TX_HEAD = "<tr><th>tx hash</th><th>height</th><th>message</th><th>result</th><th>transfer</th></tr>";

async function home() {
  const st = await rpc("status");
  const h = Number(st.sync_info.latest_block_height);
  const chain = await rpc("blockchain", { minHeight: Math.max(1, h - 9), maxHeight: h });
  const blocks = chain.block_metas.map((m) =>
    `<tr><td>${m.header.height}</td><td>${esc(m.header.time)}</td><td>${m.num_txs}</td><td class="mono">${m.block_id.hash}</td></tr>`).join("");
  const txs = await rpc("tx_search", { query: JSON.stringify("tx.height > 0"), order_by: JSON.stringify("desc"), per_page: 20 });
  view.innerHTML = `<h2>Latest blocks</h2><table id="blocks"><tr><th>height</th><th>time</th><th>txs</th><th>hash</th></tr>${blocks}</table>
    <h2>Latest transactions</h2><table id="txs">${TX_HEAD}${txRows(txs.txs)}</table>`;
}

async function account(address) {
  const a = await query(`/account/${address}`);
  const sent = await rpc("tx_search", { query: JSON.stringify(`transfer.sender='${address}'`), order_by: JSON.stringify("desc"), per_page: 20 });
  const got = await rpc("tx_search", { query: JSON.stringify(`transfer.recipient='${address}'`), order_by: JSON.stringify("desc"), per_page: 20 });
  const txs = [...sent.txs, ...got.txs].sort((x, y) => Number(y.height) - Number(x.height));
  view.innerHTML = `<h2>Account <span class="mono">${esc(a.address)}</span></h2>
    <table id="account"><tr><th>balance</th><td id="balance">${mdt(a.balance)}</td></tr><tr><th>nonce</th><td>${a.nonce}</td></tr></table>
    <h2>Transfers</h2><table id="txs">${TX_HEAD}${txRows(txs)}</table>`;
}

async function validators() {
  // the first page of the node's rank order (those that can be in the set first, by tokens)
  const page = await query("/validators?limit=100");
  const vals = page.validators;
  const window = Number((await query("/params/slashing")).signed_blocks_window);
  const rows = [];
  for (const v of vals) {
    const info = await query(`/signing_info/${v.operator}`);
    const counted = Math.min(Number(info.counter), window);
    const uptime = counted ? (100 * (1 - Number(info.missed) / counted)).toFixed(2) + "%" : "n/a";
    rows.push(`<tr><td>${esc(v.moniker)}</td><td>${acct(v.operator)}</td><td>${v.power}</td><td>${mdt(v.tokens)}</td><td class="uptime">${uptime}</td><td>${v.jailed ? "jailed" : "active"}</td></tr>`);
  }
  const more = page.pagination.next_key ? `<p>the first ${vals.length} of ${page.pagination.total}</p>` : "";
  view.innerHTML = `<h2>Validators</h2>${more}<table id="validators"><tr><th>moniker</th><th>operator</th><th>power</th><th>tokens</th><th>uptime</th><th>status</th></tr>${rows.join("")}</table>`;
}

async function subnets() {
  const list = await query("/subnets");
  const rows = list.map((s) => `<tr><td><a href="#/subnet/${s.netuid}">${s.netuid}</a></td><td>${acct(s.owner)}</td><td>${s.n}/${s.max_allowed_uids}</td><td>${s.tempo}</td><td>${mdt(s.total_stake)}</td><td>${s.last_epoch}</td><td>${s.next_epoch}</td></tr>`).join("");
  view.innerHTML = `<h2>Subnets</h2><table id="subnets"><tr><th>netuid</th><th>owner</th><th>neurons</th><th>tempo</th><th>stake</th><th>last epoch</th><th>next epoch</th></tr>${rows}</table>`;
}

function chart(canvas, neurons) {
  // incentive (blue) and dividends (orange) per uid, as paired bars; 65535 = full height
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 24;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#8a93a3";
  ctx.beginPath(); ctx.moveTo(pad, 4); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 4, h - pad); ctx.stroke();
  const slot = (w - pad - 8) / Math.max(1, neurons.length);
  const bar = Math.max(1, slot / 2 - 1);
  neurons.forEach((n, i) => {
    const x = pad + 4 + i * slot;
    const hi = ((h - pad - 8) * n.incentive) / 65535, hd = ((h - pad - 8) * n.dividends) / 65535;
    ctx.fillStyle = "#2f6fde"; ctx.fillRect(x, h - pad - hi, bar, hi);
    ctx.fillStyle = "#f08c2e"; ctx.fillRect(x + bar, h - pad - hd, bar, hd);
    ctx.fillStyle = "#1d2330"; ctx.font = "10px sans-serif"; ctx.fillText(String(n.uid), x, h - pad + 12);
  });
  canvas.dataset.drawn = String(neurons.length);
}

async function subnet(netuid) {
  const m = await query(`/subnet/${netuid}/metagraph`);
  const rows = m.neurons.map((n) => `<tr><td>${n.uid}</td><td>${acct(n.hotkey)}</td><td>${mdt(n.stake)}</td><td>${frac(n.incentive)}</td><td>${frac(n.dividends)}</td><td>${frac(n.trust)}</td><td>${frac(n.consensus)}</td><td>${mdt(n.emission)}</td><td>${n.validator_permit ? "✓" : ""}</td></tr>`).join("");
  view.innerHTML = `<h2>Subnet ${netuid} metagraph (height ${m.height})</h2>
    <div class="legend"><span style="background:#2f6fde"></span>incentive<span style="background:#f08c2e"></span>dividends</div>
    <canvas id="chart" width="900" height="260"></canvas>
    <table id="metagraph"><tr><th>uid</th><th>hotkey</th><th>stake</th><th>incentive</th><th>dividends</th><th>trust</th><th>consensus</th><th>emission</th><th>permit</th></tr>${rows}</table>`;
  chart(document.getElementById("chart"), m.neurons);
}

async function route() {
  const [, page, arg] = (location.hash || "#/").split("/");
  view.dataset.ready = "";
  try {
    if (page === "account") await account(arg);
    else if (page === "validators") await validators();
    else if (page === "subnets") await subnets();
    else if (page === "subnet") await subnet(Number(arg));
    else await home();
  } catch (e) {
    view.innerHTML = `<div class="error">${esc(e.message)}</div>`;
  }
  view.dataset.ready = location.hash || "#/";
}

document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = document.getElementById("q").value.trim();
  if (q.startsWith("mt1")) location.hash = `#/account/${q}`;
  else location.hash = "#/";
});

rpc("status").then((st) => {
  document.getElementById("chain").textContent = `${st.node_info.network} · height ${st.sync_info.latest_block_height}`;
}).catch(() => {});
window.addEventListener("hashchange", route);
route();
