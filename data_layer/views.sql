-- Migration 0002_staging: staging views over raw + user tables. Metrics read lead_facts, the
-- materialised stg_lead_facts (rebuilt after every sync and every mapping/qualification change).

-- Names compare case-insensitively with ё = е (partner names, field names, loss reasons).
create or replace macro norm_name(x) as lower(trim(replace(replace(x, 'Ё', 'Е'), 'ё', 'е')));

create or replace macro setting_json(k) as (select value from settings where key = k);

-- One row: the account's time zone and currency (demo defaults when nothing is synced yet).
create or replace view stg_account as
select
    coalesce(max(name), 'amoCRM') as account_name,
    coalesce(max(timezone), 'Europe/Moscow') as timezone,
    coalesce(max(currency), 'RUB') as currency
from raw_account;

-- Stages with their regular rank and the pipeline's qualification stage sort.
create or replace view stg_statuses as
with ranked as (
    select
        s.*,
        (s.type is distinct from 1 and s.status_id not in (142, 143)) as is_regular,
        case when s.type is distinct from 1 and s.status_id not in (142, 143)
             then row_number() over (
                 partition by s.pipeline_id,
                     (s.type is distinct from 1 and s.status_id not in (142, 143))
                 order by s.sort, s.status_id)
        end as regular_rank
    from raw_statuses s
),
configured as (
    select
        cast(k.key as bigint) as pipeline_id,
        cast(json_extract_string(setting_json('qualification_stages'), '$."' || k.key || '"') as bigint)
            as status_id
    from (select unnest(json_keys(coalesce(setting_json('qualification_stages'), '{}'))) as key) k
),
qual as (
    select p.pipeline_id,
        coalesce(
            (select r.sort from ranked r join configured c
                on c.pipeline_id = r.pipeline_id and c.status_id = r.status_id
             where r.pipeline_id = p.pipeline_id),
            (select r.sort from ranked r where r.pipeline_id = p.pipeline_id and r.regular_rank = 2)
        ) as qual_sort
    from (select distinct pipeline_id from raw_statuses) p
)
select r.pipeline_id, r.status_id, r.name, r.sort, r.type, r.color, r.is_regular, r.regular_rank,
       q.qual_sort
from ranked r left join qual q using (pipeline_id);

-- Attribution settings as one row (defaults per metrics-spec: field «Партнёр», model field «Модель партнёрства»).
create or replace view stg_mapping as
select
    coalesce(json_extract_string(setting_json('mapping'), '$.mode'), 'field') as mode,
    coalesce(json_extract_string(setting_json('mapping'), '$.field'), 'Партнёр') as field,
    coalesce(json_extract_string(setting_json('mapping'), '$.tag_prefix'), 'partner:') as tag_prefix,
    coalesce(json_extract_string(setting_json('mapping'), '$.model_field'), 'Модель партнёрства') as model_field;

-- First value of every lead custom field, with the field's normalised name.
create or replace view stg_lead_field_first as
select lead_id, field_id, norm_name(field_name) as field_key, lower(field_code) as field_code, value
from raw_lead_field_values
where value_idx = 0;

create or replace view stg_utm as
select lead_id, any_value(value) as utm_source
from stg_lead_field_first
where field_code = 'utm_source' or field_key = 'utm_source'
group by lead_id;

-- The partner label each lead carries under the configured mapping (null = direct).
create or replace view stg_lead_partner_label as
with m as (select * from stg_mapping)
select f.lead_id, any_value(f.value) as label
from stg_lead_field_first f, m
where m.mode = 'field'
  and (cast(f.field_id as varchar) = m.field or f.field_key = norm_name(m.field))
  and nullif(trim(f.value), '') is not null
group by f.lead_id
union all
select t.lead_id, any_value(substr(t.name, length(m.tag_prefix) + 1)) as label
from raw_lead_tags t, m
where m.mode = 'tag' and starts_with(lower(t.name), lower(m.tag_prefix))
  and length(t.name) > length(m.tag_prefix)
group by t.lead_id
union all
select u.lead_id, u.utm_source as label
from stg_utm u, m
where m.mode = 'utm' and nullif(trim(u.utm_source), '') is not null;

-- Every normalised name or alias under which a partner is recognised.
create or replace view stg_partner_keys as
select partner_id, norm_name(name) as key from partners
union
select partner_id, norm_name(unnest(aliases)) as key from partners;

-- The model label a lead carries in the CRM (used only to fill partners without a model).
create or replace view stg_lead_model_label as
select f.lead_id,
    case
        when norm_name(f.value) like '%реферал%' or norm_name(f.value) like '%referral%' then 'referral'
        when norm_name(f.value) like '%продаж%' or norm_name(f.value) like '%sales%'
          or norm_name(f.value) like '%reseller%' then 'sales'
        when norm_name(f.value) like '%услуг%' or norm_name(f.value) like '%сервис%'
          or norm_name(f.value) like '%service%' then 'service'
    end as model
from stg_lead_field_first f, stg_mapping m
where f.field_key = norm_name(m.model_field) or cast(f.field_id as varchar) = m.model_field;

-- Highest stage sort each lead reached (current stage or any stage-change event), lost excluded.
create or replace view stg_lead_reached as
with stages as (
    select id as lead_id, pipeline_id, status_id from raw_leads
    union all
    select lead_id, pipeline_after, status_after from raw_lead_status_events
    union all
    select lead_id, pipeline_before, status_before from raw_lead_status_events
)
select st.lead_id,
    bool_or(s.qual_sort is not null and s.status_id <> 143 and s.sort >= s.qual_sort) as reached_qualification
from stages st
join stg_statuses s on s.pipeline_id = st.pipeline_id and s.status_id = st.status_id
group by st.lead_id;

-- The client of a lead (metrics-spec): its main contact; else its company; else its other contact with the lowest
-- id; else the lead itself. The company comes before a non-main contact, so a company's deals through different
-- non-main contacts are one client. (Also m0008_definitions.sql, which replaces it in existing databases.)
create or replace view stg_lead_client as
select l.id as lead_id,
    coalesce(
        'c' || (select min(lc.contact_id) from raw_lead_contacts lc where lc.lead_id = l.id and lc.is_main),
        'co' || (select min(lco.company_id) from raw_lead_companies lco where lco.lead_id = l.id),
        'c' || (select min(lc.contact_id) from raw_lead_contacts lc where lc.lead_id = l.id),
        'l' || l.id
    ) as client_key
from raw_leads l;

create or replace view stg_lead_contactability as
select lc.lead_id,
    bool_or(coalesce(c.phone_count, 0) > 0) as has_phone,
    bool_or(coalesce(c.email_count, 0) > 0) as has_email
from raw_lead_contacts lc join raw_contacts c on c.id = lc.contact_id
group by lc.lead_id;

-- One row per non-deleted lead with everything the metrics need, dates in the account time zone.
create or replace view stg_lead_facts as
with acc as (select * from stg_account),
junk as (
    select norm_name(unnest(cast(coalesce(setting_json('junk_reasons'), '["Спам","Дубль","Нецелевой"]') as varchar[]))) as key
)
select
    l.id as lead_id,
    l.name as lead_name,
    l.pipeline_id,
    l.status_id,
    l.responsible_user_id,
    l.created_at,
    l.closed_at,
    cast(timezone(acc.timezone, to_timestamp(l.created_at)) as date) as created_date,
    cast(timezone(acc.timezone, to_timestamp(l.closed_at)) as date) as closed_date,
    coalesce(l.price_minor, cast(l.price as double), 0.0) as amount,
    l.status_id = 142 as is_won,
    l.status_id = 143 as is_lost,
    (l.status_id = 142 or coalesce(r.reached_qualification, false)) as is_qualified,
    l.loss_reason_id,
    lr.name as loss_reason,
    (l.status_id = 143 and norm_name(lr.name) in (select key from junk)) as is_junk,
    pk.partner_id,
    p.name as partner_name,
    case when pk.partner_id is null then 'direct' else coalesce(p.model, 'unassigned') end as model,
    pl.label as partner_label,
    u.utm_source,
    l.source_id,
    src.name as source_name,
    cl.client_key,
    coalesce(ct.has_phone, false) as has_phone,
    coalesce(ct.has_email, false) as has_email,
    case when l.status_id = 142 and l.closed_at is not null
         then (l.closed_at - l.created_at) / 86400.0 end as close_days
from raw_leads l
cross join acc
left join stg_lead_partner_label pl on pl.lead_id = l.id
left join (select key, min(partner_id) as partner_id from stg_partner_keys group by key) pk
    on pk.key = norm_name(pl.label)
left join partners p on p.partner_id = pk.partner_id
left join stg_lead_reached r on r.lead_id = l.id
left join raw_loss_reasons lr on lr.id = l.loss_reason_id
left join stg_utm u on u.lead_id = l.id
left join raw_sources src on src.id = l.source_id
left join stg_lead_client cl on cl.lead_id = l.id
left join stg_lead_contactability ct on ct.lead_id = l.id
where not coalesce(l.is_deleted, false);

-- Stage history per lead in order (funnel).
create or replace view stg_stage_events as
select e.id as event_id, e.lead_id, e.created_at,
    cast(timezone((select timezone from stg_account), to_timestamp(e.created_at)) as date) as event_date,
    e.pipeline_before, e.status_before, e.pipeline_after, e.status_after
from raw_lead_status_events e;

-- if not exists: migration 0008 re-runs this file over an existing database
create table if not exists lead_facts as select * from stg_lead_facts limit 0;
