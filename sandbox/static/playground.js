// The playground page: simulated people chat with the bot through the emulator's JSON API (sandbox/playground.py).
// Everything the bot sends is drawn as DOM nodes from text + entities (never innerHTML), so its HTML is safe.
"use strict";

const API = "/playground/api";

// The page's own labels, in the simulated person's language (the bot's texts come from the bot).
const LABELS = {
  en: {
    title: "Playground", intro: "Chat with the bot as simulated Telegram users. Pick one, or create one.",
    new_user: "New user", telegram_id: "Telegram id", first_name: "First name", last_name: "Last name",
    language: "Language", phone: "Phone", create: "Create", no_user: "No user selected", send: "Send",
    share_own: "📱 Share my contact", other_phone: "someone's phone", other_id: "their Telegram id (optional)",
    share_other: "Share this contact", photo: "🖼 Photo", document: "📄 Document", message: "Message",
    empty: "No messages yet. Press /start to begin.", press_start: "/start",
    you_are: (u) => `You are ${u.first_name} (id ${u.id}, ${u.language_code || "no language"})`,
    connected: "● bot connected", waiting: "○ waiting for the bot (python -m bot)", unreachable: "emulator unreachable",
    paid: "Paid", pay: "Pay", paid_amount: "✅ Paid", edited: "edited", no_language: "no language",
    no_phone: "no phone", not_on_telegram: " (not on Telegram)", user: "user",
    declined: "Payment declined: ", timeout: "The bot did not confirm the payment in time.",
    phone_first: "Type the contact's phone first",
  },
  ru: {
    title: "Песочница", intro: "Переписывайтесь с ботом от имени тестовых пользователей Telegram. Выберите или создайте.",
    new_user: "Новый пользователь", telegram_id: "Telegram id", first_name: "Имя", last_name: "Фамилия",
    language: "Язык", phone: "Телефон", create: "Создать", no_user: "Пользователь не выбран", send: "Отправить",
    share_own: "📱 Отправить мой контакт", other_phone: "телефон другого человека",
    other_id: "его Telegram id (необязательно)", share_other: "Отправить этот контакт", photo: "🖼 Фото",
    document: "📄 Документ", message: "Сообщение", empty: "Сообщений пока нет. Нажмите /start, чтобы начать.",
    press_start: "/start",
    you_are: (u) => `Вы — ${u.first_name} (id ${u.id}, ${u.language_code || "язык не задан"})`,
    connected: "● бот подключён", waiting: "○ ждём бота (python -m bot)", unreachable: "эмулятор недоступен",
    paid: "Оплачено", pay: "Оплатить", paid_amount: "✅ Оплачено", edited: "изменено", no_language: "язык не задан",
    no_phone: "без телефона", not_on_telegram: " (не в Telegram)", user: "пользователь",
    declined: "Оплата отклонена: ", timeout: "Бот не подтвердил оплату вовремя.",
    phone_first: "Сначала введите телефон контакта",
  },
};
let labels = LABELS.en;
const t = (key) => labels[key];

function applyLanguage(code) {
  labels = LABELS[code] || LABELS.en;
  document.documentElement.lang = LABELS[code] ? code : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
}
const state = { user: null, version: null, poll: null, chat: null, stick: true };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(API + path, options);
  let body = {};
  try { body = await response.json(); } catch (_) { /* empty body */ }
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

const post = (path, body) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

let toastTimer = null;
function toast(text, alert = false) {
  const node = $("toast");
  node.textContent = text;
  node.className = alert ? "alert" : "";
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, alert ? 6000 : 3000);
}
$("toast").addEventListener("click", () => { $("toast").hidden = true; });

// ---------------------------------------------------------------------------------------------- formatted text

function safeUrl(url) {
  try {
    const parsed = new URL(url, "https://example.invalid");
    return ["http:", "https:", "tg:", "mailto:"].includes(parsed.protocol) ? url : null;
  } catch (_) { return null; }
}

function wrap(entity, text, inner) {
  switch (entity.type) {
    case "bold": return el("b", {}, inner);
    case "italic": return el("i", {}, inner);
    case "underline": return el("u", {}, inner);
    case "strikethrough": return el("s", {}, inner);
    case "spoiler": return el("span", { class: "spoiler", onclick: (e) => e.currentTarget.classList.add("shown") }, inner);
    case "code": return el("code", {}, inner);
    case "pre": return el("code", { class: "pre" }, inner);
    case "blockquote": case "expandable_blockquote": return el("span", { class: "quote" }, inner);
    case "text_link": {
      const href = safeUrl(entity.url || "");
      return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, inner) : inner;
    }
    case "url": {
      const href = safeUrl(/^[a-z]+:/i.test(text) ? text : "https://" + text);
      return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, inner) : inner;
    }
    case "bot_command":
      return el("span", { class: "command", title: "Send", onclick: () => sendText(text) }, inner);
    case "mention": case "hashtag": case "cashtag": return el("span", { class: entity.type }, inner);
    default: return inner;
  }
}

// Offsets are in UTF-16 code units, as JavaScript strings are: slice directly.
function formatted(text, entities) {
  const fragment = document.createDocumentFragment();
  const cuts = new Set([0, text.length]);
  for (const e of entities) { cuts.add(e.offset); cuts.add(Math.min(e.offset + e.length, text.length)); }
  const points = [...cuts].filter((p) => p <= text.length).sort((a, b) => a - b);
  for (let i = 0; i < points.length - 1; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    const active = entities
      .filter((e) => e.offset <= start && e.offset + e.length >= end)
      .sort((a, b) => b.length - a.length);
    for (const entity of active.reverse()) {
      node = wrap(entity, text.slice(entity.offset, entity.offset + entity.length), node);
    }
    fragment.append(node);
  }
  return fragment;
}

// ---------------------------------------------------------------------------------------------- drawing

function money(amount, currency) {
  if (currency === "XTR") return `${amount} ⭐`;
  return `${(amount / 100).toFixed(2)} ${currency}`;
}

function drawMessage(m) {
  const bubble = el("div", { class: "msg " + (m.outgoing ? "out" : "in"), "data-id": m.message_id });
  if (m.photo) bubble.append(el("img", { src: m.photo, alt: "photo", onload: keepAtBottom }));
  if (m.document) bubble.append(el("a", { href: m.document.url, target: "_blank" }, "📄 " + m.document.name), "\n");
  if (m.contact) {
    const owner = m.contact.user_id ? ` (${t("user")} ${m.contact.user_id})` : t("not_on_telegram");
    bubble.append(`📱 ${m.contact.first_name}: ${m.contact.phone_number}${owner}`);
  }
  if (m.payment) bubble.append(`${t("paid_amount")} ${money(m.payment.total_amount, m.payment.currency)}`);
  if (m.text) bubble.append(formatted(m.text, m.entities || []));
  if (m.invoice) {
    const inv = m.invoice;
    const pay = el("button", { type: "button", onclick: () => act("pay", { message_id: m.message_id }) },
      inv.paid ? t("paid") : `${t("pay")} ${money(inv.total_amount, inv.currency)}`);
    pay.disabled = inv.paid;
    const ownPay = (m.inline_keyboard || []).some((row) => row.some((b) => b.pay));
    bubble.append(el("div", { class: "card" },
      el("strong", {}, inv.title), el("div", {}, inv.description),
      el("div", { class: "amount" }, money(inv.total_amount, inv.currency)), ownPay ? null : pay));
  }
  if (m.inline_keyboard) {
    const kb = el("div", { class: "inline-kb" });
    for (const row of m.inline_keyboard) {
      const line = el("div", { class: "row" });
      for (const b of row) {
        if (b.pay) {
          const pay = el("button", { type: "button", onclick: () => act("pay", { message_id: m.message_id }) }, b.text);
          pay.disabled = Boolean(m.invoice && m.invoice.paid);
          line.append(pay);
        } else if (b.callback_data !== undefined) {
          line.append(el("button", { type: "button", onclick: () => act("click", { message_id: m.message_id, data: b.callback_data }) }, b.text));
        } else if (b.url && safeUrl(b.url)) {
          line.append(el("a", { href: b.url, target: "_blank", rel: "noopener noreferrer" }, b.text + " ↗"));
        } else {
          line.append(el("button", { type: "button", disabled: "" }, b.text));
        }
      }
      kb.append(line);
    }
    bubble.append(kb);
  }
  const time = m.date ? new Date(m.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  bubble.append(el("div", { class: "meta" }, [m.protected ? "🔒" : "", m.edited ? t("edited") : "", time].filter(Boolean).join(" · ")));
  return bubble;
}

function drawKeyboard(markup) {
  const box = $("keyboard");
  box.replaceChildren();
  // The placeholder belongs to the keyboard shown now: none once it is removed (the wizard asks to type).
  $("text").placeholder = (markup && markup.keyboard && markup.input_field_placeholder) || t("message");
  if (!markup || !markup.keyboard) return;
  for (const row of markup.keyboard) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      line.append(el("button", { type: "button", onclick: () => act("press", { text }) }, text));
    }
    box.append(line);
  }
}

function keepAtBottom() {
  if (state.stick) $("messages").scrollTop = $("messages").scrollHeight;
}

function drawChat(chat) {
  const box = $("messages");
  state.stick = state.version === null || box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  state.chat = chat;
  state.version = chat.version;
  if (chat.messages.length) box.replaceChildren(...chat.messages.map(drawMessage));
  else {
    box.replaceChildren(el("div", { class: "empty", id: "empty-hint" }, t("empty"), " ",
      el("button", { type: "button", onclick: () => sendText("/start") }, t("press_start"))));
  }
  keepAtBottom();
  drawKeyboard(chat.keyboard);
}

function drawUsers(users) {
  const list = $("user-list");
  list.replaceChildren(...users.map((u) => el("li", {},
    el("button", { type: "button", class: state.user === u.id ? "active" : "", onclick: () => choose(u) },
      `${u.first_name} ${u.last_name || ""}`.trim(),
      el("small", {}, `id ${u.id} · ${u.language_code || t("no_language")} · ${u.phone || t("no_phone")}`)))));
}

// ---------------------------------------------------------------------------------------------- acting

async function act(action, body) {
  if (!state.user) return;
  try {
    const result = await post(`/chats/${state.user}/${action}`, body);
    handleResult(result);
  } catch (error) { toast(error.message, true); }
}

function handleResult(result) {
  if (result.chat) drawChat(result.chat);
  if (result.answer && result.answer.text) toast(result.answer.text, result.answer.show_alert);
  if (result.notice) toast(result.notice);
  if (result.payment) {
    const p = result.payment;
    if (p.status === "declined") toast(t("declined") + (p.error_message || ""), true);
    else if (p.status === "timeout") toast(t("timeout"), true);
  }
}

function sendText(text) {
  if (text.trim()) act("send", { text });
}

async function upload(action, input) {
  const file = input.files[0];
  if (!file || !state.user) return;
  const form = new FormData();
  form.append("file", file, file.name);
  input.value = "";
  $("more").open = false;
  try {
    const response = await fetch(`${API}/chats/${state.user}/${action}`, { method: "POST", body: form });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    handleResult(body);
  } catch (error) { toast(error.message, true); }
}

async function choose(user) {
  state.user = user.id;
  state.version = null;
  applyLanguage(user.language_code);
  $("who").textContent = t("you_are")(user);
  for (const id of ["text", "send"]) $(id).disabled = false;
  if (state.poll) state.poll.abort();
  await refreshUsers();
  poll(user.id);
}

async function poll(userId) {
  const controller = new AbortController();
  state.poll = controller;
  let version = null;
  while (state.user === userId && !controller.signal.aborted) {
    try {
      const query = version === null ? "" : `?version=${encodeURIComponent(version)}&wait=25`;
      const chat = await api(`/chats/${userId}${query}`, { signal: controller.signal });
      if (state.user !== userId) return;
      if (chat.version !== state.version) drawChat(chat);
      version = chat.version;
    } catch (error) {
      if (controller.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function refreshUsers() {
  try {
    const info = await api("/state");
    $("bot-name").textContent = `${info.bot.first_name} (@${info.bot.username})`;
    $("bot-status").textContent = info.bot.polling ? t("connected") : t("waiting");
    $("bot-status").className = "status" + (info.bot.polling ? " on" : "");
    drawUsers(info.users);
    return info;
  } catch (error) {
    $("bot-status").textContent = t("unreachable");
    return null;
  }
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  $("text").value = "";
  sendText(text);
});
$("share-own").addEventListener("click", () => { $("more").open = false; act("contact", {}); });
$("share-other").addEventListener("click", () => {
  const phone = $("other-phone").value.trim();
  if (!phone) { toast(t("phone_first")); return; }
  const id = $("other-id").value.trim();
  $("more").open = false;
  act("contact", { phone, user_id: id ? Number(id) : null });
});
$("photo").addEventListener("change", (e) => upload("photo", e.target));
$("document").addEventListener("change", (e) => upload("document", e.target));

$("new-user").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = Object.fromEntries(form.entries());
  body.id = Number(body.id);
  try {
    const user = await post("/users", body);
    await choose(user);
    const info = await refreshUsers();
    prefill(info ? info.users : [user]);
  } catch (error) { toast(error.message, true); }
});

// A fresh person each time: an id nobody has, the next name, a random phone (the form never comes back blank).
const NAMES = ["Anna", "Boris", "Vera", "Gleb", "Daria", "Egor", "Zoya", "Ilya", "Kira", "Lev"];
function prefill(users) {
  const form = $("new-user");
  const taken = new Set(users.map((u) => u.id));
  let id = 1000 + Math.floor(Math.random() * 9000);
  while (taken.has(id)) id += 1;
  form.elements.id.value = id;
  form.elements.first_name.value = NAMES[users.length % NAMES.length];
  form.elements.last_name.value = "";
  form.elements.phone.value = "+7916" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
}

(async function init() {
  const info = await refreshUsers();
  prefill(info ? info.users : []);
  if (info && info.users.length) choose(info.users[0]);
  setInterval(refreshUsers, 5000);
})();
