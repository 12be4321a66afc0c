// pykubelet's lab dashboard: draws the node from the snapshots of /ui/stream (server-sent events).
// Plain JavaScript, no dependencies, nothing fetched from anywhere but this agent. Read-only.
"use strict";

(function () {
  const STALE_MS = 6000; // no snapshot or heartbeat for this long: the agent is not answering
  const VOLUME_COLOURS = 5; // .vol-0 ... .vol-4 in style.css

  const $ = (id) => document.getElementById(id);
  const state = {
    snap: null,
    source: null,
    lastMessage: 0,
    connected: false,
    offlineSince: 0,
    attempts: 0,
    reconnectTimer: 0,
    cards: new Map(), // uid -> {json, el}
    errorsJson: "",
    eventsJson: "",
  };

  // -- small helpers ------------------------------------------------------------------------------

  // h("div", {class: "x", data: {k: "v"}}, "text", child, [more children])
  function h(tag, attrs, ...children) {
    const svg = tag.startsWith("svg:");
    const el = svg
      ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
      : document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "data") {
        for (const [k, v] of Object.entries(value)) el.dataset[k] = v;
      } else if (key === "text") {
        el.textContent = value;
      } else {
        el.setAttribute(key, value === true ? "" : value);
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  // A long path as text that wraps after each "/" rather than in the middle of a name.
  function pathText(path) {
    const parts = String(path || "").split("/");
    return parts.flatMap((part, i) => (i < parts.length - 1 ? [part + "/", h("wbr")] : [part]));
  }

  function basename(path) {
    const parts = String(path || "").split("/");
    return parts[parts.length - 1] || path;
  }

  // kubectl's human durations: 42s, 5m10s, 3h20m, 2d4h
  function human(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 120) return `${seconds}s`;
    const m = Math.floor(seconds / 60);
    if (m < 10) return `${m}m${seconds % 60 ? `${seconds % 60}s` : ""}`;
    if (m < 180) return `${m}m`;
    const hrs = Math.floor(m / 60);
    if (hrs < 48) return `${hrs}h${m % 60 && hrs < 8 ? `${m % 60}m` : ""}`;
    const d = Math.floor(hrs / 24);
    return `${d}d${hrs % 24 && d < 8 ? `${hrs % 24}h` : ""}`;
  }

  function since(iso) {
    const t = Date.parse(iso || "");
    return Number.isNaN(t) ? "" : human((Date.now() - t) / 1000);
  }

  function clock(iso) {
    const t = new Date(iso || "");
    return Number.isNaN(t.getTime()) ? "" : t.toLocaleTimeString([], { hour12: false });
  }

  function ageSpan(iso, suffix) {
    return h("span", { class: "age", data: { since: iso || "", suffix: suffix || "" }, title: iso || "" },
      iso ? since(iso) + (suffix || "") : "–");
  }

  function updateAges() {
    for (const el of document.querySelectorAll("[data-since]")) {
      if (el.dataset.since) el.textContent = since(el.dataset.since) + (el.dataset.suffix || "");
    }
  }

  // The pod name as the file source sets it is <name>-<node>: show the node suffix quieter.
  function podName(name, node) {
    const suffix = `-${node}`;
    if (node && name.endsWith(suffix)) {
      return [h("span", { class: "pod-base" }, name.slice(0, -suffix.length)), h("span", { class: "pod-node" }, suffix)];
    }
    return [h("span", { class: "pod-base" }, name)];
  }

  // -- a container's state, as a badge ------------------------------------------------------------

  function stateBadge(st, init) {
    const kind = st.kind || "waiting";
    let text = kind === "running" ? "Running" : st.reason || (kind === "waiting" ? "Waiting" : "Terminated");
    let tone = kind;
    if (kind === "terminated") {
      const code = st.exitCode;
      if (code === 0) {
        tone = "done";
        text = init ? "Completed ✓" : st.reason || "Completed";
      } else {
        tone = "failed";
      }
      if (code !== undefined && code !== null) text += ` · exit ${code}`;
    } else if (kind === "waiting" && /BackOff|Err|Invalid|Failed|Error/.test(st.reason || "")) {
      tone = "failed";
    }
    return h("span", { class: `state state-${tone}`, title: st.message || "", data: { state: kind } }, text);
  }

  function lastTermination(last) {
    if (!last) return null;
    const code = last.exitCode === undefined || last.exitCode === null ? "" : ` · exit ${last.exitCode}`;
    return h("div", { class: "last", data: { role: "last-termination" } },
      h("span", { class: "k" }, "last termination"),
      h("span", { class: last.exitCode === 0 ? "v" : "v bad" }, `${last.reason || "Terminated"}${code}`),
      last.at ? ageSpan(last.at, " ago") : null);
  }

  // -- one pod card -------------------------------------------------------------------------------

  function volumeIndex(pod) {
    const index = new Map();
    pod.volumes.forEach((v, i) => index.set(v.name, i % VOLUME_COLOURS));
    return index;
  }

  function mountChips(c, colours) {
    if (!c.mounts.length) return null;
    return h("ul", { class: "mounts", "aria-label": "volume mounts" },
      c.mounts.map((m) => h("li", {
        class: `mount vol-${colours.get(m.volume) ?? 0}`,
        data: { volume: m.volume },
      }, h("span", { class: "mount-vol" }, m.volume), " → ", h("code", {}, m.mountPath), m.readOnly ? " (ro)" : "")));
  }

  function containerBox(pod, c, colours, init, index) {
    const key = `pod:${pod.uid}:${init ? "init" : "c"}:${c.name}`;
    const facts = h("div", { class: "cfacts" },
      h("code", { class: "image" }, c.image),
      h("span", { class: c.ready ? "ready yes" : "ready no", data: { role: "ready" } },
        c.ready ? "ready ✓" : "not ready"),
      h("span", { class: c.restartCount ? "restarts bad" : "restarts", data: { role: "restarts" } },
        `restarts ${c.restartCount}`));
    const label = `${init ? `init container ${index + 1}` : "container"} ${c.name}: ${c.state.kind} ${c.state.reason || ""}`;
    return h("div", {
      class: `container ${init ? "init" : "app"}`,
      tabindex: "0",
      role: "group",
      "aria-label": label,
      data: { container: c.name, attached: "infra", kind: init ? "init" : "app", focusKey: key },
    },
    h("div", { class: "chead" },
      init ? h("span", { class: "step", title: "runs in this order" }, String(index + 1)) : null,
      h("span", { class: "cname" }, c.name),
      stateBadge(c.state, init)),
    c.state.message ? h("div", { class: "message" }, c.state.message) : null,
    facts,
    lastTermination(c.lastTermination),
    mountChips(c, colours));
  }

  function infraBox(pod) {
    const infra = pod.infra;
    const ip = infra.hostNetwork ? pod.hostIP || infra.ip : infra.ip;
    const ports = infra.hostPorts.length
      ? h("ul", { class: "ports", "aria-label": "published host ports" },
        infra.hostPorts.map((p) => h("li", {}, h("strong", {}, `${p.hostIP ? p.hostIP + ":" : ""}${p.hostPort}`),
          ` → ${p.containerPort}/${p.protocol}`, h("span", { class: "muted" }, ` (${p.container})`))))
      : h("span", { class: "muted" }, "none");
    return h("div", {
      class: "infra",
      tabindex: "0",
      role: "group",
      "aria-label": `infra container: owns the network namespace, IP ${ip || "none yet"}`,
      data: { container: "POD", kind: "infra", focusKey: `pod:${pod.uid}:infra` },
    },
    h("div", { class: "chead" },
      h("span", { class: "cname" }, "infra ", h("span", { class: "muted-inv" }, "(pause)")),
      stateBadge(infra.state, false)),
    h("div", { class: "owns" }, infra.hostNetwork
      ? "uses the node's network namespace (hostNetwork)"
      : "owns the pod's network namespace"),
    h("div", { class: "netline" },
      h("span", { class: "k" }, "IP"),
      h("span", { class: "ip", data: { role: "pod-ip" } }, ip || "–"),
      h("span", { class: "k" }, "hostPorts"), ports),
    h("div", { class: "image" }, h("code", {}, infra.image)));
  }

  function volumeBox(pod, v, colour) {
    const users = v.mountedBy.map((m) => m.container);
    return h("div", {
      class: `volume vol-${colour}`,
      tabindex: "0",
      role: "group",
      "aria-label": `volume ${v.name} (${v.kind}), mounted by ${users.join(", ") || "no container"}`,
      data: { volume: v.name, mountedBy: users.join(" "), focusKey: `pod:${pod.uid}:v:${v.name}` },
    },
    h("div", { class: "vhead" }, h("span", { class: "vname" }, v.name), h("span", { class: "vkind" }, v.kind)),
    v.path ? h("code", { class: "vpath", title: v.path }, pathText(v.path)) : null,
    v.medium ? h("div", { class: "muted small" }, `medium ${v.medium}`) : null,
    v.type ? h("div", { class: "muted small" }, `type ${v.type}`) : null,
    h("div", { class: "vusers" }, users.length ? `shared by ${users.length}: ${users.join(", ")}` : "not mounted"));
  }

  function podCard(pod, node) {
    const colours = volumeIndex(pod);
    const ip = pod.infra.hostNetwork ? pod.hostIP : pod.podIP;
    const ready = pod.containers.filter((c) => c.ready).length;
    const members = [];
    if (pod.initContainers.length) {
      members.push(h("div", { class: "lane-label" }, "init containers · one at a time, in order"));
      pod.initContainers.forEach((c, i) => members.push(containerBox(pod, c, colours, true, i)));
      members.push(h("div", { class: "lane-label" }, "app containers · started together"));
    }
    pod.containers.forEach((c, i) => members.push(containerBox(pod, c, colours, false, i)));

    const netns = h("div", { class: "netns", "aria-label": "the pod's network namespace" },
      h("div", { class: "netns-label" }, "the pod's network namespace"),
      infraBox(pod),
      h("div", { class: "members", "aria-label": "containers joined to the infra container's namespaces" },
        h("div", { class: "rail-label" }, "join the infra container's network and IPC namespaces"),
        members));

    const vols = pod.volumes.length
      ? h("div", { class: "volumes", "aria-label": "volumes" },
        h("div", { class: "volumes-label" }, "volumes"),
        pod.volumes.map((v) => volumeBox(pod, v, colours.get(v.name))))
      : h("div", { class: "volumes none" }, h("div", { class: "volumes-label" }, "no volumes"));

    const body = h("div", { class: "pod-body" }, netns, vols,
      h("svg:svg", { class: "links", "aria-hidden": "true" }));

    return h("article", {
      class: `pod phase-${pod.phase}`,
      tabindex: "0",
      "aria-label": `pod ${pod.name}, ${pod.phase}`,
      data: { pod: pod.name, uid: pod.uid, phase: pod.phase, focusKey: `pod:${pod.uid}` },
    },
    h("header", { class: "pod-head" },
      h("h3", { class: "pod-name" }, podName(pod.name, node)),
      h("span", { class: `phase phase-${pod.phase}`, data: { role: "phase" } }, pod.phase)),
    h("dl", { class: "pod-facts" },
      fact("ready", `${ready}/${pod.containers.length}`, ready === pod.containers.length ? "good" : "bad"),
      fact("namespace", pod.namespace),
      fact("pod IP", ip || "none yet", "mono"),
      fact("QoS", pod.qosClass),
      fact("age", ageSpan(pod.created)),
      fact("restart", pod.restartPolicy),
      fact("file", h("span", { title: pod.file }, basename(pod.file)), "mono file")),
    body);
  }

  function fact(label, value, cls) {
    return h("div", { class: "fact" }, h("dt", {}, label), h("dd", { class: cls || "" }, value));
  }

  // -- wires from containers to volumes (an SVG over the card body) -------------------------------

  function drawLinks(body) {
    const svg = body.querySelector("svg.links");
    if (!svg) return;
    const box = body.getBoundingClientRect();
    svg.setAttribute("width", box.width);
    svg.setAttribute("height", box.height);
    svg.setAttribute("viewBox", `0 0 ${box.width} ${box.height}`);
    svg.replaceChildren();
    const volumes = [...body.querySelectorAll(".volume")];
    volumes.forEach((vol, lane) => {
      const v = vol.getBoundingClientRect();
      const colour = [...vol.classList].find((c) => c.startsWith("vol-"));
      const vy = v.top - box.top + Math.min(v.height / 2, 26);
      for (const chip of body.querySelectorAll(`.container .mount[data-volume="${CSS.escape(vol.dataset.volume)}"]`)) {
        const container = chip.closest(".container");
        const c = container.getBoundingClientRect();
        const m = chip.getBoundingClientRect();
        const x1 = c.right - box.left;
        const y1 = m.top - box.top + m.height / 2;
        let d;
        let x2;
        if (v.left >= c.right - 1) {
          // side by side: a curve across the gap
          x2 = v.left - box.left;
          const dx = Math.max(24, (x2 - x1) / 2);
          d = `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${vy}, ${x2} ${vy}`;
        } else {
          // stacked (narrow window): along the right-hand gutter, one lane per volume
          x2 = v.right - box.left;
          const gx = box.width - 10 - 8 * (lane % 3);
          d = `M ${x1} ${y1} H ${gx} V ${vy} H ${x2}`;
        }
        svg.append(
          h("svg:path", { class: `link ${colour}`, d, data: { volume: vol.dataset.volume, container: container.dataset.container } }),
          h("svg:circle", { class: `end ${colour}`, cx: x1, cy: y1, r: 5 }),
          h("svg:circle", { class: `end ${colour}`, cx: x2, cy: vy, r: 5 }));
      }
    });
  }

  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) drawLinks(entry.target);
  });

  function redrawAll() {
    for (const body of document.querySelectorAll(".pod-body")) drawLinks(body);
  }

  // -- the panels ---------------------------------------------------------------------------------

  function renderPods(snap) {
    const list = $("pod-list");
    const seen = new Set();
    const wanted = [];
    for (const pod of snap.pods) {
      const json = JSON.stringify(pod) + snap.node;
      let entry = state.cards.get(pod.uid);
      if (!entry || entry.json !== json) {
        const el = podCard(pod, snap.node);
        if (entry) {
          resizer.unobserve(entry.el.querySelector(".pod-body"));
          entry.el.replaceWith(el);
        }
        entry = { json, el };
        state.cards.set(pod.uid, entry);
        resizer.observe(el.querySelector(".pod-body"));
      }
      seen.add(pod.uid);
      wanted.push(entry.el);
    }
    for (const [uid, entry] of state.cards) {
      if (!seen.has(uid)) {
        resizer.unobserve(entry.el.querySelector(".pod-body"));
        entry.el.remove();
        state.cards.delete(uid);
      }
    }
    wanted.forEach((el, i) => {
      if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
    });
    $("pod-count").textContent = String(snap.pods.length);
    $("no-pods").hidden = snap.pods.length > 0;
    $("empty-manifest-path").textContent = snap.manifestPath;
  }

  function renderErrors(snap) {
    const json = JSON.stringify(snap.errors);
    $("error-count").textContent = String(snap.errors.length);
    $("error-count").classList.toggle("bad", snap.errors.length > 0);
    $("no-errors").hidden = snap.errors.length > 0;
    if (json === state.errorsJson) return;
    state.errorsJson = json;
    $("error-list").replaceChildren(...snap.errors.map((e) => h("li", {
      class: "error",
      tabindex: "0",
      data: { file: e.file, focusKey: `err:${e.file}` },
      "aria-label": `manifest error in ${basename(e.file)}`,
    },
    h("div", { class: "efile" }, h("span", { class: "efile-name" }, basename(e.file)),
      h("code", { class: "efile-path" }, pathText(e.file))),
    h("ul", { class: "fields" }, (e.fields.length ? e.fields : [{ field: "", reason: e.reason }]).map((f) =>
      h("li", { class: "field", data: { field: f.field } },
        f.field ? h("code", { class: "fpath" }, f.field) : null,
        h("span", { class: "freason" }, f.reason)))))));
  }

  function renderEvents(snap) {
    const json = JSON.stringify(snap.events);
    $("no-events").hidden = snap.events.length > 0;
    if (json === state.eventsJson) return;
    state.eventsJson = json;
    $("event-list").replaceChildren(...snap.events.map((e) => {
      const object = e.kind === "File" ? basename(e.object) : e.object.replace(`-${snap.node}`, "");
      const message = e.kind === "File" && e.message.startsWith(`${e.object}: `)
        ? e.message.slice(e.object.length + 2)
        : e.message;
      return h("li", { class: `event ${e.type === "Warning" ? "warning" : "normal"}`, data: { reason: e.reason } },
        h("time", { datetime: e.last, title: e.last }, clock(e.last)),
        h("div", { class: "ebody" },
          h("div", { class: "ehead" },
            h("span", { class: "ereason" }, e.reason),
            h("span", { class: "eobject" }, object, e.container ? ` · ${e.container}` : ""),
            e.count > 1 ? h("span", { class: "ecount" }, `×${e.count}`) : null),
          h("div", { class: "emessage" }, message)));
    }));
  }

  function renderHeader(snap) {
    $("node-name").textContent = snap.node;
    $("manifest-path").textContent = snap.manifestPath;
    $("root-dir").textContent = snap.rootDir;
    const rt = $("runtime");
    rt.textContent = snap.runtime.ok ? "answers" : `down: ${snap.runtime.error}`;
    rt.className = snap.runtime.ok ? "runtime ok" : "runtime bad";
    const up = $("agent-age");
    up.dataset.since = snap.agentStarted;
    up.title = snap.agentStarted;
    $("version").textContent = `pykubelet ${snap.version}`;
    document.title = `${snap.node} · pykubelet`;
  }

  function render(snap) {
    const active = document.activeElement;
    const focusKey = active && active.dataset ? active.dataset.focusKey : undefined;
    state.snap = snap;
    renderHeader(snap);
    renderPods(snap);
    renderErrors(snap);
    renderEvents(snap);
    updateAges();
    if (focusKey && !document.activeElement?.dataset?.focusKey) {
      const again = document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
    requestAnimationFrame(redrawAll);
  }

  // -- the connection -----------------------------------------------------------------------------

  function setConnection(live, detail) {
    const was = state.connected;
    state.connected = live;
    if (!live && was) state.attempts = 0;
    document.body.dataset.connection = live ? "live" : "offline";
    $("connection-text").textContent = live ? "live" : "agent not answering";
    $("offline").hidden = live;
    if (!live) {
      if (!state.offlineSince || was) state.offlineSince = Date.now();
      const at = new Date(state.offlineSince).toLocaleTimeString([], { hour12: false });
      $("offline-detail").textContent =
        `No word from it since ${at}${detail ? ` (${detail})` : ""}; reconnecting by itself` +
        (state.attempts ? ` (${state.attempts} ${state.attempts === 1 ? "try" : "tries"} so far).` : "…");
    } else {
      state.offlineSince = 0;
      state.attempts = 0;
    }
  }

  function heard() {
    state.lastMessage = Date.now();
    if (!state.connected) setConnection(true);
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    if (state.source) state.source.close();
    if (!state.connected) state.attempts += 1;
    const source = new EventSource("stream");
    state.source = source;
    source.addEventListener("snapshot", (e) => {
      heard();
      render(JSON.parse(e.data));
    });
    source.addEventListener("heartbeat", heard);
    source.addEventListener("error", () => {
      if (source !== state.source) return;
      if (!state.connected) state.attempts += 1; // a retry failed (the browser retries by itself)
      setConnection(false, "the stream dropped");
      if (source.readyState === EventSource.CLOSED) scheduleReconnect();
    });
    state.lastMessage = Date.now();
  }

  function scheduleReconnect() {
    clearTimeout(state.reconnectTimer);
    const delay = Math.min(5000, 500 * 2 ** Math.min(state.attempts, 4));
    state.reconnectTimer = setTimeout(connect, delay);
  }

  // A stream that is open but silent (a hung agent) is as good as gone: start a new one.
  setInterval(() => {
    updateAges();
    if (Date.now() - state.lastMessage > STALE_MS) {
      setConnection(false, "no heartbeat");
      connect();
    }
  }, 1000);

  addEventListener("resize", () => requestAnimationFrame(redrawAll));
  if (document.fonts) document.fonts.ready.then(() => requestAnimationFrame(redrawAll));
  connect();
})();
