/*
 * Web chat of the child-safety assistant: the full page (/webhooks/webchat/) and the
 * one-tag widget for any site:
 *
 *   <script src="http://HOST:5005/webhooks/webchat/widget.js" defer></script>
 *
 * Options, as data attributes on that script tag (or on the page's #webchat element):
 *   data-exit-url     neutral page that "Thoát nhanh" / Esc x3 replaces this page with
 *   data-server       socket.io server if it is not where widget.js came from
 *   data-socket-path  socket.io path (default: the channel's socketio_path)
 *   data-open="true"  open the chat panel at once (widget mode)
 *
 * Safety rules kept here: every message is put in the page with textContent or text nodes,
 * never as HTML; nothing is sent anywhere but the bot's own server; no cookies; the
 * conversation lives in sessionStorage (this tab only) and "Xóa cuộc trò chuyện" or a quick
 * exit wipes it.
 */
(function () {
  "use strict";

  if (window.__safeKidsWebchat) return;
  window.__safeKidsWebchat = true;

  var SCRIPT = document.currentScript;
  var SCRIPT_URL = new URL(SCRIPT && SCRIPT.src ? SCRIPT.src : location.href, location.href);
  var BASE = new URL(".", SCRIPT_URL).href;
  var SOCKET_PATH = "__WEBCHAT_SOCKETIO_PATH__"; // filled in by the Rasa channel
  if (SOCKET_PATH.indexOf("__") === 0) SOCKET_PATH = "/socket.io";

  var STORE_KEY = "safekids-webchat-v1";
  var MAX_LENGTH = 2000;
  var MAX_HISTORY = 300;
  var ACK_TIMEOUT_MS = 60000;
  var SESSION_TIMEOUT_MS = 10000;
  var ESC_PRESSES = 3;
  var ESC_WINDOW_MS = 2000;
  var USER_EVT = "user_uttered";
  var BOT_EVT = "bot_uttered";
  var RECEIVED_EVT = "bot_received"; // "shown": the server keeps a pushed message until it hears this
  var DEFAULT_EXIT_URL = "https://www.google.com/search?q=thoi+tiet";
  var TT_POLICY = "safekids-webchat";

  var T = {
    title: "Trò chuyện an toàn",
    exit: "Thoát nhanh",
    exitHint: " (rời trang ngay; phím tắt: bấm Esc 3 lần)",
    hotlineBefore: "Cần giúp ngay? ",
    hotlineCall: "Gọi 111",
    hotlineAfter: " — miễn phí, 24/7",
    privacy: "Không cần tên thật · Không cookie, không theo dõi",
    welcome: "Chào bạn! Mình là trợ lý giúp bạn an toàn trên mạng. Bạn có thể kể cho mình nghe chuyện đang làm bạn lo, hoặc hỏi mình bất cứ điều gì. Bạn không cần nói tên thật đâu.",
    suggestions: [
      { title: "Mẹo an toàn trên mạng", payload: "/ask_tip" },
      { title: "Nói chuyện với tư vấn viên", payload: "/request_counsellor" }
    ],
    logLabel: "Cuộc trò chuyện",
    botSays: "Trợ lý nói: ",
    youSay: "Bạn nói: ",
    choices: "Lựa chọn",
    inputLabel: "Tin nhắn của bạn",
    placeholder: "Nhập tin nhắn…",
    send: "Gửi",
    typing: "Mình đang trả lời",
    sending: "Đang gửi…",
    queued: "Chưa gửi được — mình sẽ tự gửi khi có mạng lại.",
    connecting: "Đang kết nối…",
    offline: "Mất kết nối. Tin nhắn của bạn được giữ lại và sẽ tự gửi khi có mạng lại.",
    reconnected: "Đã kết nối lại.",
    loadFailed: "Không tải được khung trò chuyện. Bạn vẫn có thể gọi 111 bất cứ lúc nào.",
    tooLong: function (n) {
      return "Tin nhắn dài quá: tối đa " + MAX_LENGTH + " ký tự (bạn đang có " + n + "). Bạn chia thành vài tin ngắn hơn giúp mình nhé.";
    },
    counter: function (n) { return n + "/" + MAX_LENGTH + " ký tự"; },
    clear: "Xóa cuộc trò chuyện",
    clearQuestion: "Xóa toàn bộ cuộc trò chuyện này? Mình cũng xóa những gì đã lưu về bạn trên máy chủ.",
    clearYes: "Xóa hết",
    clearNo: "Không xóa",
    cleared: "Đã xóa cuộc trò chuyện. Bạn có thể bắt đầu lại.",
    open: "Trò chuyện",
    openLabel: "Mở khung trò chuyện an toàn",
    close: "Thu nhỏ",
    closeLabel: "Thu nhỏ khung trò chuyện",
    launcherHotline: "Gọi 111",
    launcherHotlineLabel: "Gọi 111, tổng đài bảo vệ trẻ em, miễn phí, 24/7",
    image: "Xem hình ảnh"
  };

  // ---- configuration ---------------------------------------------------------------------

  var pageRoot = document.querySelector('[data-webchat-mode="page"]');
  function option(name) {
    var v = pageRoot && pageRoot.dataset[name];
    if (!v && SCRIPT) v = SCRIPT.dataset[name];
    return v || "";
  }
  function httpUrl(value, fallback) {
    try {
      var u = new URL(value, location.href);
      if (u.protocol === "http:" || u.protocol === "https:") return u.href;
    } catch (e) { /* fall through */ }
    return fallback;
  }
  var socketPathOption = option("socketPath");
  var CFG = {
    exitUrl: option("exitUrl") ? httpUrl(option("exitUrl"), DEFAULT_EXIT_URL) : DEFAULT_EXIT_URL,
    server: option("server") ? httpUrl(option("server"), SCRIPT_URL.origin) : SCRIPT_URL.origin,
    socketPath: socketPathOption && socketPathOption.indexOf("__") !== 0 ? socketPathOption : SOCKET_PATH,
    open: option("open") === "true"
  };

  // ---- state in sessionStorage (this tab only) -----------------------------------------------

  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function freshState() {
    return { sessionId: newId(), history: [], queue: [], pendingDeletes: [], received: [] };
  }
  var memoryStore = null; // when sessionStorage is blocked
  function loadState() {
    try {
      var raw = memoryStore || window.sessionStorage.getItem(STORE_KEY);
      var s = raw && JSON.parse(raw);
      if (s && /^[0-9a-f]{32}$/.test(s.sessionId) && Array.isArray(s.history) && Array.isArray(s.queue)) {
        if (!Array.isArray(s.pendingDeletes)) s.pendingDeletes = [];
        if (!Array.isArray(s.received)) s.received = [];
        return s;
      }
    } catch (e) { /* fresh state */ }
    return freshState();
  }
  var state = loadState();
  function save() {
    if (state.history.length > MAX_HISTORY) state.history = state.history.slice(-MAX_HISTORY);
    var raw = JSON.stringify(state);
    try { window.sessionStorage.setItem(STORE_KEY, raw); } catch (e) { memoryStore = raw; }
  }
  function wipeStorage() {
    memoryStore = null;
    try { window.sessionStorage.removeItem(STORE_KEY); } catch (e) { /* nothing stored */ }
  }

  // ---- DOM helpers: text only, never HTML ----------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  // Links only for web addresses and the hotlines; everything else is a text node.
  var LINKS = /(https?:\/\/[^\s<>"'“”]*[^\s<>"'“”.,;:!?)\]])|\b(11[1345])\b/g;
  function appendText(parent, text) {
    var last = 0;
    String(text).replace(LINKS, function (match, url, phone, offset) {
      if (offset > last) parent.appendChild(document.createTextNode(text.slice(last, offset)));
      if (url) {
        parent.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }));
      } else {
        parent.appendChild(el("a", { href: "tel:" + phone, class: "wc-tel", text: phone }));
      }
      last = offset + match.length;
      return match;
    });
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---- user interface ----------------------------------------------------------------------

  var ui = {};
  var mode = pageRoot ? "page" : "widget";

  function buildApp(headingTag) {
    var titleId = "wc-title";
    var inputId = "wc-input";
    var hintId = "wc-hint";
    ui.exit = el("button", {
      type: "button", class: "wc-exit", onclick: quickExit
    }, [T.exit, el("span", { class: "wc-sr-only", text: T.exitHint })]);
    var headerButtons = [ui.exit];
    if (mode === "widget") {
      ui.close = el("button", {
        type: "button", class: "wc-close", "aria-label": T.closeLabel, onclick: function () { setOpen(false); }
      }, [el("span", { "aria-hidden": "true", text: "—" })]);
      headerButtons.push(ui.close);
    }
    var header = el("header", { class: "wc-header" }, [
      el(headingTag, { class: "wc-title", id: titleId, text: T.title }),
      el("div", { class: "wc-header-actions" }, headerButtons)
    ]);
    var hotline = el("a", { class: "wc-hotline", href: "tel:111" }, [
      T.hotlineBefore, el("strong", { text: T.hotlineCall }), T.hotlineAfter
    ]);
    var privacy = el("p", { class: "wc-privacy", text: T.privacy });
    ui.status = el("p", { class: "wc-status", role: "status", "aria-live": "polite" });
    ui.log = el("div", {
      class: "wc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": T.logLabel, tabindex: "0"
    });
    ui.typing = el("div", { class: "wc-typing", hidden: true }, [
      el("span", { class: "wc-typing-text", text: T.typing }),
      el("span", { class: "wc-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")])
    ]);
    ui.input = el("textarea", {
      id: inputId, class: "wc-input", rows: "1", placeholder: T.placeholder,
      autocomplete: "off", autocapitalize: "sentences", spellcheck: "true", enterkeyhint: "send",
      "aria-describedby": hintId
    });
    ui.send = el("button", { type: "submit", class: "wc-send", text: T.send });
    ui.hint = el("p", { class: "wc-hint", id: hintId, "aria-live": "polite" });
    ui.form = el("form", { class: "wc-composer", novalidate: true }, [
      el("label", { class: "wc-sr-only", for: inputId, text: T.inputLabel }),
      el("div", { class: "wc-composer-row" }, [ui.input, ui.send]),
      ui.hint
    ]);
    ui.clear = el("button", {
      type: "button", class: "wc-clear", "aria-expanded": "false", "aria-controls": "wc-confirm", text: T.clear
    });
    ui.clearYes = el("button", { type: "button", class: "wc-danger", text: T.clearYes });
    ui.clearNo = el("button", { type: "button", class: "wc-secondary", text: T.clearNo });
    ui.confirm = el("div", { class: "wc-confirm", id: "wc-confirm", hidden: true }, [
      el("p", { text: T.clearQuestion }),
      el("div", { class: "wc-confirm-actions" }, [ui.clearYes, ui.clearNo])
    ]);
    var footer = el("div", { class: "wc-footer" }, [ui.clear, ui.confirm]);

    ui.form.addEventListener("submit", function (e) {
      e.preventDefault();
      submitInput();
    });
    ui.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitInput();
      }
    });
    ui.input.addEventListener("input", function () {
      checkLength(false);
      autoGrow();
    });
    ui.clear.addEventListener("click", function () { showConfirm(ui.confirm.hidden); });
    ui.clearNo.addEventListener("click", function () { showConfirm(false); ui.clear.focus(); });
    ui.clearYes.addEventListener("click", function () { clearConversation(); });

    return el("div", { class: "wc-app", "aria-labelledby": titleId }, [
      header, hotline, privacy, ui.status, ui.log, ui.typing, ui.form, footer
    ]);
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 160) + "px";
  }

  function checkLength(onSubmit) {
    var n = ui.input.value.length;
    var over = n > MAX_LENGTH;
    ui.input.setAttribute("aria-invalid", over ? "true" : "false");
    ui.hint.classList.toggle("wc-error", over);
    if (over) ui.hint.textContent = T.tooLong(n);
    else if (n > MAX_LENGTH - 200) ui.hint.textContent = T.counter(n);
    else ui.hint.textContent = "";
    if (over && onSubmit) ui.input.focus();
    return !over;
  }

  function showConfirm(show) {
    ui.confirm.hidden = !show;
    ui.clear.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) ui.clearYes.focus();
  }

  function setStatus(text, kind) {
    ui.status.textContent = text || "";
    ui.status.className = "wc-status" + (kind ? " wc-status-" + kind : "");
  }

  var nodes = {}; // entry id -> element

  function renderEntry(entry) {
    var bubble = el("div", { class: "wc-bubble" }, [
      el("span", { class: "wc-sr-only", text: entry.from === "bot" ? T.botSays : T.youSay })
    ]);
    appendText(bubble, entry.text || "");
    if (entry.image) {
      bubble.appendChild(document.createTextNode(entry.text ? " " : ""));
      bubble.appendChild(el("a", { href: entry.image, target: "_blank", rel: "noopener noreferrer", text: T.image }));
    }
    var item = el("div", { class: "wc-msg wc-msg-" + entry.from, "data-id": entry.id }, [bubble]);
    if (entry.from === "user" && entry.pending) {
      item.appendChild(el("span", { class: "wc-pending", text: pendingText() }));
    }
    if (entry.buttons && entry.buttons.length) item.appendChild(renderButtons(entry));
    nodes[entry.id] = item;
    return item;
  }

  function renderButtons(entry) {
    var group = el("div", { class: "wc-buttons", role: "group", "aria-label": T.choices });
    entry.buttons.forEach(function (b) {
      var btn = el("button", { type: "button", class: "wc-choice", text: b.title, disabled: !!entry.answered });
      btn.addEventListener("click", function () {
        if (entry.answered && !entry.local) return;
        if (!entry.local) {
          entry.answered = true;
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.disabled = true; });
          btn.classList.add("wc-chosen");
        }
        send(b.payload, b.title);
        ui.input.focus();
      });
      group.appendChild(btn);
    });
    return group;
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function append(entry) {
    ui.log.appendChild(renderEntry(entry));
    scrollToEnd();
  }

  function renderAll() {
    nodes = {};
    ui.log.setAttribute("aria-busy", "true");
    ui.log.textContent = "";
    ui.log.appendChild(renderEntry({
      id: "welcome", from: "bot", text: T.welcome, buttons: T.suggestions, local: true
    }));
    state.history.forEach(function (entry) { ui.log.appendChild(renderEntry(entry)); });
    ui.log.removeAttribute("aria-busy");
    scrollToEnd();
  }

  function pendingText() {
    return socket && socket.connected ? T.sending : T.queued;
  }
  function refreshPending() {
    var text = pendingText();
    state.history.forEach(function (entry) {
      var node = entry.pending && nodes[entry.id];
      var mark = node && node.querySelector(".wc-pending");
      if (mark) mark.textContent = text;
    });
  }
  function markDelivered(id) {
    state.history.forEach(function (entry) {
      if (entry.id === id && entry.pending) {
        entry.pending = false;
        var mark = nodes[id] && nodes[id].querySelector(".wc-pending");
        if (mark) mark.remove();
      }
    });
  }

  var inFlight = false;
  function updateTyping() {
    ui.typing.hidden = !(inFlight && socket && socket.connected);
    if (!ui.typing.hidden) scrollToEnd();
  }

  // ---- sending, the offline queue and the connection --------------------------------------

  var socket = null;
  var ready = false;     // connected and joined to the current conversation
  var muted = false;     // ignore bot messages (while deleting an old conversation)
  var flushing = false;
  var connGen = 0;       // bumps on every (re)connect, disconnect and clear

  function submitInput() {
    if (!checkLength(true)) return;
    var text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    autoGrow();
    checkLength(false);
    send(text, text);
  }

  function send(payload, shown) {
    var id = newId();
    var entry = { id: id, from: "user", text: shown, pending: true };
    state.history.push(entry);
    state.queue.push({ id: id, message: payload });
    save();
    append(entry);
    ensureSocket();
    flush();
  }

  function onBotMessage(data) {
    if (muted || !data || typeof data !== "object") return;
    // A message kept for us while we were away (counsellor, notices) carries an id: confirm it, and
    // show it once even if it is replayed after a lost confirmation.
    if (typeof data.id === "number") {
      if (socket) socket.emit(RECEIVED_EVT, { session_id: state.sessionId, ids: [data.id] });
      if (state.received.indexOf(data.id) !== -1) return;
      state.received.push(data.id);
      if (state.received.length > 200) state.received = state.received.slice(-200);
    }
    var custom = data.custom && typeof data.custom === "object" ? data.custom : null;
    var text = typeof data.text === "string" ? data.text : custom && typeof custom.text === "string" ? custom.text : "";
    var image = "";
    var att = data.attachment;
    if (att && att.payload && typeof att.payload.src === "string") image = httpUrl(att.payload.src, "");
    var raw = data.quick_replies || data.buttons || (custom && custom.buttons) || [];
    var buttons = (Array.isArray(raw) ? raw : []).filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    if (!text && !image && !buttons.length) return;
    var entry = { id: newId(), from: "bot", text: text, buttons: buttons, answered: false };
    if (image) entry.image = image;
    state.history.push(entry);
    save();
    append(entry);
  }

  function requestSession(id) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        socket.off("session_confirm", onConfirm);
        reject(new Error("session_request timed out"));
      }, SESSION_TIMEOUT_MS);
      function onConfirm(confirmed) {
        clearTimeout(timer);
        socket.off("session_confirm", onConfirm);
        resolve(confirmed);
      }
      socket.on("session_confirm", onConfirm);
      socket.emit("session_request", { session_id: id });
    });
  }

  // After every (re)connect: delete conversations the child cleared while offline, join the
  // current one, then send what is queued.
  function sync(gen) {
    ready = false;
    var chain = Promise.resolve();
    function deleteNext() {
      if (gen !== connGen || !state.pendingDeletes.length) return Promise.resolve();
      var old = state.pendingDeletes[0];
      muted = true;
      return requestSession(old).then(function (confirmed) {
        if (confirmed !== old) return null;
        // The child already said yes in the page's own dialog: ask, then confirm (the bot asks first).
        return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(USER_EVT, {
          message: "/delete_data", session_id: old, message_id: newId()
        }).then(function () {
          return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(USER_EVT, {
            message: "/affirm", session_id: old, message_id: newId()
          });
        });
      }).then(function () {
        if (gen !== connGen) return null;
        state.pendingDeletes.shift();
        save();
        return deleteNext();
      });
    }
    chain.then(deleteNext).then(function () {
      if (gen !== connGen) return null;
      return requestSession(state.sessionId).then(function (confirmed) {
        if (gen !== connGen) return;
        muted = false;
        if (confirmed !== state.sessionId && /^[0-9a-f]{32}$/.test(confirmed)) {
          state.sessionId = confirmed;
          save();
        }
        ready = true;
        flush();
      });
    }).catch(function () {
      if (gen === connGen && socket.connected) setTimeout(function () { if (gen === connGen) sync(gen); }, 2000);
    });
  }

  function flush() {
    if (!ready || flushing || !state.queue.length) return;
    flushing = true;
    var gen = connGen;
    var item = state.queue[0];
    inFlight = true;
    updateTyping();
    socket.timeout(ACK_TIMEOUT_MS).emitWithAck(USER_EVT, {
      message: item.message, session_id: state.sessionId, message_id: item.id
    }).then(function (ack) {
      // "retry": the server could not handle it this time (the child was given 111): send it again.
      if (ack && ack.ok === false && (ack.error === "no_session" || ack.error === "retry")) throw new Error(ack.error);
      state.queue = state.queue.filter(function (q) { return q.id !== item.id; });
      markDelivered(item.id);
      save();
    }).catch(function () {
      // Lost ack or dropped connection: keep the message queued. The server ignores a repeat
      // of a message it already handled, so sending again is safe.
      if (gen === connGen && socket.connected) {
        ready = false;
        connGen += 1;
        var next = connGen;
        setTimeout(function () { if (next === connGen) sync(next); }, 1000);
      }
    }).then(function () {
      flushing = false;
      inFlight = false;
      updateTyping();
      flush();
    });
  }

  function ensureSocket() {
    if (socket) return;
    var io = window.__safeKidsIo;
    if (!io) return; // client not loaded yet; start() connects once it is
    socket = io(CFG.server, {
      path: CFG.socketPath,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 10000,
      withCredentials: false
    });
    setStatus(T.connecting, "info");
    var everConnected = false;
    socket.on("connect", function () {
      connGen += 1;
      setStatus(everConnected ? T.reconnected : "", everConnected ? "ok" : "");
      everConnected = true;
      refreshPending();
      sync(connGen);
    });
    socket.on("disconnect", function () {
      connGen += 1;
      ready = false;
      setStatus(T.offline, "warn");
      refreshPending();
      updateTyping();
    });
    socket.on("connect_error", function () {
      if (!socket.connected) setStatus(everConnected ? T.offline : T.connecting, everConnected ? "warn" : "info");
    });
    socket.on(BOT_EVT, onBotMessage);
  }

  // A phone that loses its network often keeps a dead socket open for a while: drop it now, so
  // socket.io reconnects as soon as the network is back.
  window.addEventListener("offline", function () {
    if (socket && socket.io && socket.io.engine) socket.io.engine.close();
  });
  window.addEventListener("online", function () {
    if (socket && !socket.connected) socket.connect();
  });

  function clearConversation() {
    showConfirm(false);
    state.pendingDeletes.push(state.sessionId);
    state.sessionId = newId();
    state.history = [];
    state.queue = [];
    save();
    renderAll();
    setStatus(T.cleared, "ok");
    ui.input.value = "";
    checkLength(false);
    ui.input.focus();
    ensureSocket();
    if (socket && socket.connected) {
      connGen += 1;
      muted = true;
      sync(connGen);
    }
  }

  // ---- quick exit --------------------------------------------------------------------------

  function quickExit() {
    wipeStorage();
    try { if (socket) socket.disconnect(); } catch (e) { /* leaving anyway */ }
    try { if (appRoot) appRoot.textContent = ""; } catch (e) { /* leaving anyway */ }
    location.replace(CFG.exitUrl);
  }
  var escTimes = [];
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" && e.key !== "Esc") return;
    var now = Date.now();
    escTimes = escTimes.filter(function (t) { return now - t < ESC_WINDOW_MS; });
    escTimes.push(now);
    if (escTimes.length >= ESC_PRESSES) {
      e.preventDefault();
      quickExit();
    } else if (mode === "widget" && isOpen) {
      setOpen(false);
    }
  }, true);

  // ---- page mode and widget mode -------------------------------------------------------------

  var appRoot = null;
  var isOpen = false;

  function setOpen(open) {
    isOpen = open;
    ui.panel.hidden = !open;
    ui.root.classList.toggle("wc-open", open);
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      ensureSocket();
      scrollToEnd();
      ui.input.focus();
    } else {
      ui.launcher.focus();
    }
  }

  function mountPage() {
    appRoot = pageRoot;
    pageRoot.textContent = "";
    pageRoot.appendChild(buildApp("h1"));
    renderAll();
  }

  function mountWidget() {
    var host = el("div", { id: "safekids-webchat" });
    var shadow = host.attachShadow({ mode: "open" });
    appRoot = shadow;
    shadow.appendChild(el("link", { rel: "stylesheet", href: BASE + "widget.css" }));
    var root = el("div", { class: "wc-root wc-embed" });
    ui.root = root;
    ui.launcher = el("button", {
      type: "button", class: "wc-launcher", "aria-expanded": "false", "aria-controls": "wc-panel",
      "aria-label": T.openLabel, onclick: function () { setOpen(!isOpen); }
    }, [T.open]);
    var launcherHotline = el("a", {
      class: "wc-launcher-hotline", href: "tel:111", "aria-label": T.launcherHotlineLabel
    }, [T.launcherHotline]);
    ui.panel = el("div", {
      class: "wc-panel", id: "wc-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "wc-title", hidden: true
    }, [buildApp("h2")]);
    root.appendChild(ui.panel);
    root.appendChild(el("div", { class: "wc-launchers" }, [launcherHotline, ui.launcher]));
    shadow.appendChild(root);
    document.body.appendChild(host);
    renderAll();
  }

  function trustedScriptUrl(url) {
    if (!window.trustedTypes || !window.trustedTypes.createPolicy) return url;
    try {
      var policy = window.trustedTypes.createPolicy(TT_POLICY, {
        createScriptURL: function (u) {
          if (u === url) return u;
          throw new TypeError("unexpected script URL");
        }
      });
      return policy.createScriptURL(url);
    } catch (e) {
      return url;
    }
  }

  // socket.io-client: the page loads it with a <script> tag; the widget loads it itself and
  // leaves any `io` of the host site as it was.
  function loadClient() {
    if (mode === "page" && typeof window.io === "function") {
      window.__safeKidsIo = window.io;
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      var hadIo = Object.prototype.hasOwnProperty.call(window, "io");
      var previous = window.io;
      var s = document.createElement("script");
      s.src = trustedScriptUrl(BASE + "socket.io.min.js");
      s.async = true;
      s.onload = function () {
        window.__safeKidsIo = window.io;
        if (hadIo) window.io = previous;
        else { try { delete window.io; } catch (e) { window.io = undefined; } }
        if (typeof window.__safeKidsIo === "function") resolve();
        else reject(new Error("socket.io-client did not load"));
      };
      s.onerror = function () { reject(new Error("socket.io-client did not load")); };
      (document.head || document.documentElement).appendChild(s);
    });
  }

  function start() {
    if (mode === "page") mountPage();
    else mountWidget();
    var needsSocket = mode === "page" || CFG.open || state.history.length > 0 || state.queue.length > 0;
    if (!needsSocket) setStatus("", "");
    loadClient().then(function () {
      if (mode === "widget" && CFG.open) setOpen(true);
      if (needsSocket || isOpen || state.queue.length) ensureSocket();
    }, function () {
      setStatus(T.loadFailed, "warn");
      if (mode === "widget" && CFG.open) setOpen(true);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
