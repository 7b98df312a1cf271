import MageVault

/// The Secrets page: one self-contained HTML document (its style and script inline, under a
/// per-response CSP nonce; nothing fetched from anywhere but this server's API). Names are
/// put into the page with `textContent`, never as HTML, and values are never sent to it.
enum SecretsPage {
    /// The page for `info`'s scope, carrying the CSRF token the script sends back on writes.
    static func html(info: EnvironmentInfo, csrf: String, nonce: String) -> String {
        let scope: String =
            switch info.scope {
            case .global: "global"
            case .project(let project): "project " + project
            case .pipeline(let project, let pipeline): "pipeline " + project + " / " + pipeline
            }
        let uuid = info.uuid?.description ?? "not created yet (the first save creates it)"
        return template
            .replacingOccurrences(of: "{{nonce}}", with: nonce)
            .replacingOccurrences(of: "{{csrf}}", with: csrf)
            .replacingOccurrences(of: "{{scope-key}}", with: escaped(info.scope.description))
            .replacingOccurrences(of: "{{scope}}", with: escaped(scope))
            .replacingOccurrences(of: "{{uuid}}", with: escaped(uuid))
            .replacingOccurrences(of: "{{data-dir}}", with: escaped(info.dataDirectory))
            .replacingOccurrences(of: "{{vault-file}}", with: escaped(info.logFile))
    }

    /// A plain page that says what went wrong (no token, a bad scope, an unreadable vault).
    static func problem(_ message: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>MageVault</title>
        <style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}</style>
        </head><body><h1>MageVault</h1><p>\(escaped(message))</p></body></html>
        """
    }

    /// `text` safe inside HTML text and double-quoted attributes.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    private static let template = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="csrf-token" content="{{csrf}}">
        <meta name="scope" content="{{scope-key}}">
        <title>Secrets · MageVault</title>
        <link rel="icon" href="data:,">
        <style nonce="{{nonce}}">
        :root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #5b3cc4; --danger: #c0392b; --bg: #f5f7fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        main { max-width: 56rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
        header h1 { margin: 0; font-size: 1.6rem; }
        header p { margin: .25rem 0 1.25rem; color: var(--muted); }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem; margin-bottom: 1.25rem; }
        .card h2 { margin: 0 0 .75rem; font-size: 1.05rem; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
        dt { color: var(--muted); }
        dd { margin: 0; overflow-wrap: anywhere; }
        code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
        form { display: grid; grid-template-columns: 1fr 1fr auto; gap: .75rem; align-items: end; }
        label { display: grid; gap: .25rem; color: var(--muted); font-size: .9rem; }
        input { font: inherit; color: var(--ink); padding: .5rem .65rem; border: 1px solid #cbd2d9; border-radius: 6px; }
        input:focus { outline: 2px solid var(--accent); outline-offset: 0; border-color: var(--accent); }
        button { font: inherit; cursor: pointer; border-radius: 6px; padding: .5rem 1rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; }
        button:disabled { opacity: .6; cursor: progress; }
        button.quiet { background: #fff; color: var(--ink); border-color: #cbd2d9; }
        button.danger { background: #fff; color: var(--danger); border-color: #e8b4ae; }
        button.danger.confirm { background: var(--danger); color: #fff; border-color: var(--danger); }
        .error { color: var(--danger); margin: .75rem 0 0; }
        .status { color: #1e7e4a; margin: .75rem 0 0; min-height: 1.5em; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: .55rem .5rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
        th { color: var(--muted); font-weight: 600; font-size: .85rem; }
        td.actions { text-align: right; white-space: nowrap; }
        td.actions span { margin-right: .5rem; }
        td.name { font-weight: 600; overflow-wrap: anywhere; }
        tr.fresh td { background: #f3f0ff; }
        .tag { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: #eef0f3; color: var(--muted); font-size: .8rem; }
        #empty { color: var(--muted); margin: .5rem 0 0; }
        footer { color: var(--muted); font-size: .85rem; }
        @media (max-width: 40rem) { form { grid-template-columns: 1fr; } }
        </style>
        </head>
        <body>
        <main>
        <header>
          <h1>Secrets</h1>
          <p>MageVault keeps these encrypted in the vault file. Values are never shown here.</p>
        </header>
        <section class="card" aria-labelledby="environment-title">
          <h2 id="environment-title">Environment</h2>
          <dl>
            <dt>UUID</dt><dd><code id="environment-uuid">{{uuid}}</code></dd>
            <dt>Scope</dt><dd id="environment-scope">{{scope}}</dd>
            <dt>Data directory</dt><dd><code id="data-dir">{{data-dir}}</code></dd>
            <dt>Vault file</dt><dd><code>{{vault-file}}</code></dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="create-title">
          <h2 id="create-title">New secret</h2>
          <form id="create-form" autocomplete="off">
            <label>Name <input id="secret-name" name="name" required maxlength="255" spellcheck="false" autocapitalize="off" autocomplete="off"></label>
            <label>Value <input id="secret-value" name="value" type="password" required autocomplete="new-password"></label>
            <button id="save" type="submit">Save</button>
          </form>
          <p id="form-error" class="error" role="alert" hidden></p>
          <p id="status" class="status" role="status"></p>
        </section>
        <section class="card" aria-labelledby="list-title">
          <h2 id="list-title">Secrets <span id="count" class="tag"></span></h2>
          <table id="secrets">
            <thead><tr><th>Name</th><th>Scope</th><th>Updated</th><th></th></tr></thead>
            <tbody></tbody>
          </table>
          <p id="empty" hidden>No secrets yet. Add one above: name, value, Enter.</p>
          <p id="list-error" class="error" role="alert" hidden></p>
        </section>
        <footer>Use a secret in a pipeline with <code>get_secret_value('name')</code> or <code>{{ mage_secret_var('name') }}</code>.</footer>
        </main>
        <script nonce="{{nonce}}">
        "use strict";
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const servedScope = document.querySelector('meta[name="scope"]').content;
        const scopeQuery = (() => {
          const page = new URLSearchParams(location.search), query = new URLSearchParams();
          for (const key of ["project", "pipeline"]) if (page.get(key)) query.set(key, page.get(key));
          const text = query.toString();
          return text ? "?" + text : "";
        })();
        const $ = (id) => document.getElementById(id);

        async function api(method, path, body) {
          const init = { method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRF-Token": csrf } };
          if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
          const response = await fetch(path + scopeQuery, init);
          let data = null;
          try { data = await response.json(); } catch (_) { /* not JSON: described below */ }
          if (!response.ok) throw new Error(data && data.error ? data.error.message : "the server answered " + response.status);
          return { status: response.status, data };
        }

        function show(id, message) { const node = $(id); node.textContent = message || ""; node.hidden = !message; }

        function scopeLabel(secret) {
          if (secret.scope === "pipeline") return "pipeline " + secret.project_uuid + "/" + secret.pipeline_uuid;
          if (secret.scope === "project") return "project " + secret.project_uuid;
          return "global";
        }

        function cell(row, text, className) {
          const td = row.insertCell();
          if (className) td.className = className;
          td.textContent = text;
          return td;
        }

        function button(text, className, onClick) {
          const node = document.createElement("button");
          node.type = "button";
          node.className = className;
          node.textContent = text;
          node.addEventListener("click", onClick);
          return node;
        }

        function actions(td, secret) {
          td.replaceChildren();
          if (scopeLabel(secret) !== servedScope) {
            const note = document.createElement("span");
            note.className = "tag";
            note.textContent = "inherited";
            td.append(note);
            return;
          }
          td.append(button("Delete", "danger delete", () => confirmDelete(td, secret)));
        }

        function confirmDelete(td, secret) {
          td.replaceChildren();
          const question = document.createElement("span");
          question.textContent = "Delete " + secret.name + "?";
          const cancel = button("Cancel", "quiet cancel-delete", () => actions(td, secret));
          td.append(question, button("Delete", "danger confirm confirm-delete", () => remove(td, secret)), " ", cancel);
          cancel.focus();
        }

        async function remove(td, secret) {
          for (const node of td.querySelectorAll("button")) node.disabled = true;
          try {
            await api("DELETE", "/api/secrets/" + encodeURIComponent(secret.name));
            show("status", "Deleted " + secret.name + ".");
            await refresh();
          } catch (error) {
            show("list-error", error.message);
            actions(td, secret);
          }
        }

        async function refresh(fresh) {
          try {
            const { data } = await api("GET", "/api/secrets");
            const body = document.querySelector("#secrets tbody");
            body.replaceChildren();
            for (const secret of data.secrets) {
              const row = body.insertRow();
              row.dataset.name = secret.name;
              if (secret.name === fresh) row.className = "fresh";
              cell(row, secret.name, "name");
              cell(row, scopeLabel(secret));
              const when = cell(row, new Date(secret.updated_at).toLocaleString());
              when.title = secret.updated_at;
              actions(cell(row, "", "actions"), secret);
            }
            $("count").textContent = String(data.secrets.length);
            $("empty").hidden = data.secrets.length > 0;
            $("secrets").hidden = data.secrets.length === 0;
            if (data.environment.uuid) $("environment-uuid").textContent = data.environment.uuid;
            show("list-error", "");
          } catch (error) {
            show("list-error", "Could not list the secrets: " + error.message);
          }
        }

        $("create-form").addEventListener("submit", async (event) => {
          event.preventDefault();
          const name = $("secret-name").value, value = $("secret-value").value;
          show("form-error", "");
          show("status", "");
          $("save").disabled = true;
          try {
            const { status } = await api("POST", "/api/secrets", { secret: { name, value } });
            $("secret-value").value = "";
            $("secret-name").value = "";
            show("status", (status === 201 ? "Saved " : "Updated ") + name + ".");
            await refresh(name);
            $("secret-name").focus();
          } catch (error) {
            show("form-error", error.message);
          } finally {
            $("save").disabled = false;
          }
        });

        refresh();
        </script>
        </body>
        </html>
        """#
}
