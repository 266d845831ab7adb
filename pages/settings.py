"""Settings & sync: amoCRM connection, sync with live progress, attribution mapping, calculation settings."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from data_layer import admin, config, mapping, sync, userdata
from data_layer.errors import ConfigError
from metrics import glossary, lookups
from presentation import fmt
from reports import alert_send
from ui import alerts_panel, auth, data, writes
from ui.i18n import labeler, lang, model_label, tr
from ui.number_entry import EntryError, percent_text, read_number, read_percent

TEXT = {
    "ru": {
        "conn": "Подключение amoCRM", "conn.caption": "Адрес аккаунта хранится в базе, токены — в файле "
        "cache/amocrm_tokens.json (доступ только владельцу); в базу, отчёты и журналы они не попадают. "
        "Переменные окружения AMOCRM_* имеют приоритет.",
        "base_url": "Адрес аккаунта", "auth": "Способ входа", "auth.long_lived": "Долгосрочный токен",
        "auth.oauth": "OAuth 2.0", "token": "Долгосрочный токен", "client_id": "ID интеграции",
        "client_secret": "Секретный ключ", "redirect_uri": "Redirect URI", "auth_code": "Код авторизации (20 минут)",
        "save": "Сохранить подключение", "saved": "Подключение сохранено.", "test": "Проверить подключение",
        "forget": "Отключить и удалить токены", "forgot": "Токены удалены.",
        "state": "Сейчас: адрес {url} ({url_from}), вход: {mode}, токен {token}.", "none": "не задан",
        "set": "задан", "missing": "не задан",
        "sync": "Синхронизация", "sync.now": "Синхронизировать сейчас", "sync.full": "Полная (перечитать всё)",
        "sync.replace": "Заменить демо-данные данными аккаунта",
        "sync.started": "Синхронизация запущена — дашборд продолжает работать, новые данные появятся сами.",
        "sync.running": "Идёт синхронизация…", "sync.ok": "Последняя синхронизация прошла успешно.",
        "sync.failed": "Синхронизация не завершилась: {msg}", "sync.history": "История синхронизаций",
        "sync.demo": "Сейчас показан демо-аккаунт. Чтобы загрузить свой аккаунт, подключите amoCRM и отметьте "
                     "«Заменить демо-данные».",
        "mapping": "Как определять партнёра и модель", "mode": "Источник партнёра",
        "mode.field": "Поле сделки", "mode.tag": "Тег с префиксом", "mode.utm": "UTM-метка + синонимы партнёров",
        "field": "Поле с партнёром", "model_field": "Поле с моделью партнёрства", "tag_prefix": "Префикс тега",
        "qual": "Этап квалификации по воронкам", "qual.default": "по умолчанию (второй рабочий этап)",
        "preview": "Что найдено при таких настройках", "apply": "Сохранить сопоставление",
        "applied": "Сопоставление сохранено, показатели пересчитаны ({n} лидов).",
        "calc": "Параметры расчёта", "min_leads": "Порог «мало лидов»",
        "lc.active": "«Активен»: лид за последние, дней", "lc.dormant": "«Уснул»: нет лидов, дней",
        "lc.help": "Этапы жизненного цикла партнёра (страница «Партнёры»): целое число дней, «уснул» больше «активен».", "junk": "Мусорные причины отказа",
        "w.phone": "Вес: телефон", "w.email": "Вес: e-mail", "w.qualified": "Вес: квалификация",
        "margin": "Маржа аккаунта, % (пусто — доход = выручка)", "margin.model": "Маржа модели «{m}», %",
        "margin.help": "Например «35» или «12,5». Пусто — маржа не задана, доход равен выручке.",
        "calc.save": "Сохранить параметры", "calc.saved": "Параметры сохранены, показатели пересчитаны.",
        "glossary": "Глоссарий показателей", "audit": "Журнал изменений", "alerts": "Оповещения",
        "col.label": "Метка в CRM", "col.leads": "Лидов", "col.partner": "Партнёр в справочнике",
        "col.model_label": "Модель в CRM", "col.model": "Распознано как", "new": "будет добавлен",
        "no_fields": "В базе пока нет полей сделок — сначала синхронизируйте аккаунт.",
        "access": "Доступ", "access.rules": "Роли (JSON: роль → адреса, @домен или *)",
        "access.caption": "Вход настраивается в .streamlit/secrets.toml ([auth], любой OIDC-провайдер). Роли: "
                          "viewer — смотрит, editor — меняет затраты, правила, партнёров, запускает синхронизацию, "
                          "admin — ещё подключение и роли, \"partner:Имя\" — видит только свой кабинет. "
                          "Администраторы из [roles] в secrets.toml действуют всегда.",
        "access.save": "Сохранить роли", "access.saved": "Роли сохранены.",
        "access.bad": "Роли должны быть объектом JSON: {\"editor\": [\"@company.ru\"]} — исправьте и сохраните.",
    },
    "en": {
        "conn": "amoCRM connection", "conn.caption": "The account address is stored in the database, tokens in "
        "cache/amocrm_tokens.json (owner-only); they never reach the database, reports or logs. AMOCRM_* "
        "environment variables take precedence.",
        "base_url": "Account address", "auth": "Sign-in method", "auth.long_lived": "Long-lived token",
        "auth.oauth": "OAuth 2.0", "token": "Long-lived token", "client_id": "Integration ID",
        "client_secret": "Secret key", "redirect_uri": "Redirect URI", "auth_code": "Authorization code (20 minutes)",
        "save": "Save connection", "saved": "Connection saved.", "test": "Test connection",
        "forget": "Disconnect and delete tokens", "forgot": "Tokens deleted.",
        "state": "Now: address {url} ({url_from}), sign-in: {mode}, token {token}.", "none": "not set",
        "set": "set", "missing": "not set",
        "sync": "Sync", "sync.now": "Sync now", "sync.full": "Full (re-read everything)",
        "sync.replace": "Replace the demo data with the account's data",
        "sync.started": "Sync started — the dashboard keeps working and shows new data by itself.",
        "sync.running": "Sync in progress…", "sync.ok": "The last sync succeeded.",
        "sync.failed": "The sync did not finish: {msg}", "sync.history": "Sync history",
        "sync.demo": "The demo account is shown. To load your account, connect amoCRM and tick "
                     "“Replace the demo data”.",
        "mapping": "How partner and model are found", "mode": "Partner source",
        "mode.field": "Lead field", "mode.tag": "Tag with a prefix", "mode.utm": "UTM source + partner aliases",
        "field": "Field holding the partner", "model_field": "Field holding the partnership model",
        "tag_prefix": "Tag prefix", "qual": "Qualification stage per pipeline",
        "qual.default": "default (second regular stage)", "preview": "What these settings find",
        "apply": "Save mapping", "applied": "Mapping saved, metrics recomputed ({n} leads).",
        "calc": "Calculation settings", "min_leads": "“Too few leads” threshold",
        "lc.active": "“Active”: a lead within, days", "lc.dormant": "“Dormant”: no lead for, days",
        "lc.help": "The partner lifecycle's stages (Partners page): whole days, dormant more than active.", "junk": "Junk loss reasons",
        "w.phone": "Weight: phone", "w.email": "Weight: e-mail", "w.qualified": "Weight: qualification",
        "margin": "Account margin, % (empty — income = revenue)", "margin.model": "Margin of “{m}”, %",
        "margin.help": "For example “35” or “12.5”. Empty: no margin, income equals revenue.",
        "calc.save": "Save settings", "calc.saved": "Settings saved, metrics recomputed.",
        "glossary": "Metric glossary", "audit": "Change log", "alerts": "Alerts",
        "col.label": "Label in CRM", "col.leads": "Leads", "col.partner": "Partner in the list",
        "col.model_label": "Model in CRM", "col.model": "Recognised as", "new": "will be added",
        "no_fields": "No lead fields yet — sync the account first.",
        "access": "Access", "access.rules": "Roles (JSON: role → addresses, @domain or *)",
        "access.caption": "Sign-in is configured in .streamlit/secrets.toml ([auth], any OIDC provider). Roles: "
                          "viewer looks, editor changes costs, rules and partners and runs syncs, admin also the "
                          "connection and roles, \"partner:Name\" sees only their own portal. Admins listed in "
                          "[roles] of secrets.toml always apply.",
        "access.save": "Save roles", "access.saved": "Roles saved.",
        "access.bad": "Roles must be a JSON object: {\"editor\": [\"@company.ru\"]} — fix it and save.",
    },
}
MODEL_NAMES = ("referral", "sales", "service")
K_TAB = "settings.tab"  # the open tab (its label); only that tab's section runs
SECRET_KEYS = ("settings.token", "settings.client_secret", "settings.auth_code")


def _conn_state(db) -> dict:
    """What the connection looks like now (secrets reduced to set / missing)."""
    return config.describe(config.load_config(db))


def connection_section() -> None:
    """Address and credentials; save, test, forget."""
    db = data.db_path()
    st.subheader(tr(TEXT, "conn"), anchor=False)
    st.caption(tr(TEXT, "conn.caption"))
    if st.session_state.pop("settings._saved", False):
        # Typed secrets leave the widget state after saving, so they are never sent back to the browser.
        for key in SECRET_KEYS:
            st.session_state.pop(key, None)
        st.success(tr(TEXT, "saved"))
    now = _conn_state(db)
    st.text(tr(TEXT, "state", url=now.get("base_url") or tr(TEXT, "none"),
               url_from=now.get("origin", {}).get("base_url", "—"),
               mode=tr(TEXT, f"auth.{now['auth_mode']}") if now.get("auth_mode") else tr(TEXT, "none"),
               token=tr(TEXT, now.get("token", "missing"))))
    with st.form("settings.connection"):
        base_url = st.text_input(tr(TEXT, "base_url"), value=now.get("base_url") or "",
                                 placeholder="https://yourcompany.amocrm.ru", key="settings.base_url")
        auth = st.radio(tr(TEXT, "auth"), ("long_lived", "oauth"), horizontal=True, key="settings.auth",
                        format_func=labeler(TEXT, "auth."))
        token = st.text_input(tr(TEXT, "token"), type="password", key="settings.token")
        c1, c2 = st.columns(2)
        client_id = c1.text_input(tr(TEXT, "client_id"), key="settings.client_id")
        client_secret = c2.text_input(tr(TEXT, "client_secret"), type="password", key="settings.client_secret")
        redirect_uri = c1.text_input(tr(TEXT, "redirect_uri"), key="settings.redirect_uri")
        auth_code = c2.text_input(tr(TEXT, "auth_code"), type="password", key="settings.auth_code")
        if st.form_submit_button(tr(TEXT, "save"), key="settings.save"):
            creds = {"token": token} if auth == "long_lived" else {
                "client_id": client_id, "client_secret": client_secret,
                "redirect_uri": redirect_uri, "auth_code": auth_code}
            writes.act(config.save_connection, db, base_url, **creds)
            st.session_state["settings._saved"] = True
            st.rerun()
    c1, c2 = st.columns(2)
    if c1.button(tr(TEXT, "test"), key="settings.test"):
        try:
            ok, message, _ = sync.test_connection(config.load_config(db).check())
        except (ValueError, ConfigError) as exc:
            ok, message = False, exc.text(lang()) if isinstance(exc, ConfigError) else str(exc)
        (st.success if ok else st.error)(fmt.plain(message))  # the account name
    if c2.button(tr(TEXT, "forget"), key="settings.forget"):
        writes.act(config.forget_credentials, db)
        st.success(tr(TEXT, "forgot"))


@st.fragment(run_every=2)
def _progress_panel() -> None:
    """Live progress of a background sync, refreshed every 2 s while the section is on screen."""
    doc = sync.read_progress(data.db_path())
    if not doc:
        return
    status = doc.get("status")
    if status in ("running", "starting"):
        st.info(tr(TEXT, "sync.running"), icon=":material/sync:")
        for name, ent in (doc.get("entities") or {}).items():
            frac = ent.get("fraction")
            st.progress(min(max(float(frac or 0), 0.0), 1.0),
                        text=f"{name}: {ent.get('records', 0)} · {ent.get('requests', 0)} req")
    elif status == "failed":
        st.error(tr(TEXT, "sync.failed", msg=doc.get("message") or "—"))
    elif status == "ok":
        st.success(tr(TEXT, "sync.ok") + (f" {doc['message']}" if doc.get("message") else ""))


def sync_section(source: str | None) -> None:
    """Start a sync in the background, watch it, see the history."""
    st.subheader(tr(TEXT, "sync"), anchor=False)
    if source == "demo":
        st.caption(tr(TEXT, "sync.demo"))
    c1, c2, c3 = st.columns([2, 2, 3])
    full = c1.checkbox(tr(TEXT, "sync.full"), key="settings.sync_full")
    replace = c2.checkbox(tr(TEXT, "sync.replace"), key="settings.sync_replace") if source == "demo" else False
    if c3.button(tr(TEXT, "sync.now"), type="primary", key="settings.sync_now"):
        try:
            config.load_config(data.db_path()).check()
            writes.act(sync.start_background_sync, data.db_path(), full=full, replace_demo=replace)
            st.success(tr(TEXT, "sync.started"))
        except ConfigError as exc:  # a sentence saying what to set, in the page's language
            st.error(exc.text(lang()), icon=":material/error:")
        except ValueError as exc:
            st.error(str(exc))
    _progress_panel()
    runs = data.query(admin.sync_runs)
    if not runs.empty:
        with st.expander(tr(TEXT, "sync.history")):
            st.dataframe(runs, hide_index=True, key="settings.sync_runs", placeholder=fmt.DASH)


def _field_choice(fields: pd.DataFrame, current: str, key: str, label: str) -> str:
    names = [str(n) for n in fields["name"].dropna().unique()]
    if current and current not in names:
        names = [current, *names]
    return st.selectbox(label, names, index=names.index(current) if current in names else 0, key=key)


def _qualification_inputs(saved: dict) -> dict[str, int | None]:
    """One select per pipeline: the stage from which a lead counts as qualified."""
    chosen: dict[str, int | None] = {}
    default = tr(TEXT, "qual.default")
    for pipe in data.query(mapping.list_pipelines_with_stages):
        stages = [s for s in pipe["stages"] if s["is_regular"]]
        options = [None, *[s["id"] for s in stages]]
        names = {s["id"]: s["name"] for s in stages}
        current = saved.get(str(pipe["id"]))
        chosen[str(pipe["id"])] = st.selectbox(
            fmt.plain(pipe["name"]), options, index=options.index(current) if current in options else 0,
            key=f"settings.qual.{pipe['id']}",
            format_func=lambda v, n=names, d=default: d if v is None else str(n[v]))
    return chosen


def mapping_section(current: dict) -> None:
    """Choose where the partner and model come from; preview; save and recompute."""
    st.subheader(tr(TEXT, "mapping"), anchor=False)
    fields = data.query(mapping.list_lead_fields)
    saved = {**mapping.DEFAULTS, **(current.get("mapping") or {})}
    mode = st.radio(tr(TEXT, "mode"), mapping.MODES, index=mapping.MODES.index(saved["mode"]), horizontal=True,
                    key="settings.mode", format_func=labeler(TEXT, "mode."))
    proposal = dict(saved, mode=mode)
    if fields.empty:
        st.info(tr(TEXT, "no_fields"))
    else:
        if mode == "field":
            proposal["field"] = _field_choice(fields, saved["field"], "settings.field", tr(TEXT, "field"))
        proposal["model_field"] = _field_choice(fields, saved["model_field"], "settings.model_field",
                                                tr(TEXT, "model_field"))
    if mode == "tag":
        proposal["tag_prefix"] = st.text_input(tr(TEXT, "tag_prefix"), value=saved["tag_prefix"],
                                               key="settings.tag_prefix")
    with st.expander(tr(TEXT, "qual")):
        qualification = _qualification_inputs(current.get("qualification") or {})
    st.caption(tr(TEXT, "preview"))
    preview = data.query(mapping.preview_mapping, proposal)
    shown = preview.assign(partner_name=preview["partner_name"].fillna(tr(TEXT, "new")))
    st.dataframe(shown[["label", "leads", "partner_name", "model_label", "model"]].rename(columns={
        c: tr(TEXT, f"col.{k}") for c, k in (("label", "label"), ("leads", "leads"), ("partner_name", "partner"),
                                             ("model_label", "model_label"), ("model", "model"))}),
        hide_index=True, key="settings.preview", height=min(36 * (len(shown) + 1) + 4, 360), placeholder=fmt.DASH)
    if st.button(tr(TEXT, "apply"), key="settings.apply_mapping"):
        try:
            n = writes.write(admin.save_mapping, proposal, qualification)
            st.success(tr(TEXT, "applied", n=n))
        except admin.SettingsError as exc:
            st.error(exc.text(lang()), icon=":material/error:")


def calculation_section(current: dict) -> None:
    """Small-sample threshold, junk reasons, quality weights, margin."""
    st.subheader(tr(TEXT, "calc"), anchor=False)
    reasons = data.query(admin.loss_reasons)
    with st.form("settings.calc"):
        min_leads = st.number_input(tr(TEXT, "min_leads"), min_value=1, step=1, value=current["min_leads"],
                                    key="settings.min_leads")
        junk = st.multiselect(tr(TEXT, "junk"), sorted(set(reasons) | set(current["junk_reasons"])),
                              default=current["junk_reasons"], key="settings.junk")
        c1, c2, c3 = st.columns(3)
        weights = {k: col.text_input(tr(TEXT, f"w.{k}"), value=percent_text(current["weights"].get(k, 0)),
                                     key=f"settings.w_{k}")
                   for col, k in zip((c1, c2, c3), admin.WEIGHT_KEYS, strict=True)}
        margin = current["margin"] or {}
        account = st.text_input(tr(TEXT, "margin"), key="settings.margin", help=tr(TEXT, "margin.help"),
                                value=percent_text(None if margin.get("account") is None else 100 * margin["account"]))
        cols = st.columns(3)
        models = {m: col.text_input(tr(TEXT, "margin.model", m=model_label(m)), key=f"settings.margin_{m}",
                                    value=percent_text(None if (margin.get("models") or {}).get(m) is None
                                                       else 100 * margin["models"][m]))
                  for col, m in zip(cols, MODEL_NAMES, strict=True)}
        d1, d2 = st.columns(2)
        days = {k: col.text_input(tr(TEXT, f"lc.{k}"), value=str(current[f"lifecycle_{k}_days"]),
                                  key=f"settings.lifecycle_{k}", help=tr(TEXT, "lc.help"))
                for col, k in ((d1, "active"), (d2, "dormant"))}
        if st.form_submit_button(tr(TEXT, "calc.save"), key="settings.calc_save"):
            _save_calculation(int(min_leads), list(junk), weights, account, models, days)


def _whole(value: float) -> int | float:
    """A typed number of days as an int when it is whole (admin refuses anything else with its sentence)."""
    return int(value) if float(value).is_integer() else value


def _save_calculation(min_leads: int, junk: list[str], weights: dict[str, str], account: str,
                      models: dict[str, str], days: dict[str, str]) -> None:
    """Read the typed percentages («12,5») and days and save; a refused one is said in a sentence and nothing is
    saved."""
    try:
        lifecycle = tuple(_whole(read_number(days[k], tr(TEXT, f"lc.{k}"))) for k in ("active", "dormant"))
        typed_weights = {k: read_percent(v, tr(TEXT, f"w.{k}")) or 0.0 for k, v in weights.items()}
        typed_account = read_percent(account, tr(TEXT, "margin"), blank=True)
        typed_models = {m: read_percent(v, tr(TEXT, "margin.model", m=model_label(m)), blank=True) for m, v in models.items()}
    except EntryError as exc:
        st.error(exc.sentence, icon=":material/error:")
        return
    try:
        writes.write(admin.save_calculation, min_leads, junk, typed_weights, {
            "account": None if typed_account is None else typed_account / 100,
            "models": {m: v / 100 for m, v in typed_models.items() if v is not None}}, lifecycle)
        st.success(tr(TEXT, "calc.saved"))
    except admin.SettingsError as exc:
        st.error(exc.text(lang()), icon=":material/error:")


GLOSSARY_COLUMNS = ("name", "label", "description", "unit", "formula", "where")  # metrics.glossary.rows' keys


def glossary_section() -> None:
    """The metric glossary: what each metric tells, its formula and where it is computed."""
    st.dataframe(pd.DataFrame(glossary.rows(lang()), columns=list(GLOSSARY_COLUMNS)), hide_index=True,
                 key="settings.glossary", placeholder=fmt.DASH,
                 column_config={c: st.column_config.TextColumn(tr(TEXT, f"glossary.{c}")) for c in GLOSSARY_COLUMNS})


def render() -> None:
    """The whole settings page."""
    info = data.query(admin.calculation_settings)
    source = data.query(lookups.freshness).get("source")
    sections = {
        "sync": lambda: _gated("sync", sync_section, source),
        "conn": lambda: _gated("admin", connection_section),
        "mapping": lambda: _gated("edit", mapping_section, info),
        "calc": lambda: _gated("edit", calculation_section, info),
        "alerts": lambda: alerts_panel.render(alert_send.test_send, data.query(alert_send.configured)),
        "glossary": glossary_section,
        "audit": lambda: st.dataframe(data.query(admin.audit_log), hide_index=True, key="settings.audit",
                                      placeholder=fmt.DASH),
        "access": lambda: _gated("admin", access_section),
    }
    # Lazy tabs: only the open one runs (the mapping preview alone groups every lead's labels, ~0.2 s at 1M)
    tabs = st.tabs([tr(TEXT, name) for name in sections], key=K_TAB, on_change="rerun")
    for i, (tab, show) in enumerate(zip(tabs, sections.values(), strict=True)):
        with tab:
            if tab.open or (i == 0 and tab.open is None):
                show()


def _gated(action: str, section, *args) -> None:
    """Render an editing section only for people allowed to do the action; others get one sentence."""
    if auth.can(action):
        section(*args)
    else:
        auth.read_only_note()
        if action == "sync":
            runs = data.query(admin.sync_runs)
            if not runs.empty:
                st.dataframe(runs, hide_index=True, key="settings.sync_runs_ro", placeholder=fmt.DASH)


def access_section() -> None:
    """Roles: who may view, edit, administer, or see one partner's portal (sign-in via [auth] in secrets)."""
    st.caption(tr(TEXT, "access.caption"))
    saved = data.query(userdata.get_setting, "roles") or {}
    text = st.text_area(tr(TEXT, "access.rules"), value=json.dumps(saved, ensure_ascii=False, indent=2),
                        height=200, key="settings.roles")
    if st.button(tr(TEXT, "access.save"), key="settings.roles_save"):
        try:
            value = json.loads(text or "{}")
            if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
                raise ValueError
        except ValueError:
            st.error(tr(TEXT, "access.bad"))
            return
        writes.write(userdata.set_setting, "roles", auth.merge_rules(value) or None)
        st.success(tr(TEXT, "access.saved"))


if __name__ == "__main__":
    render()
