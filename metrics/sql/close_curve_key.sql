-- close_curve_key: one row with a fingerprint of everything the time-to-close curve (close_curve.sql) depends on:
-- the won deals' pipeline, creation date and days to close, and the data's last day. Equal fingerprints give
-- equal curves, so metrics.maturity computes a curve once per data version. No parameters.
select (select count(*) || ':' || coalesce(sum(hash(w.lead_id, w.pipeline_id, w.created_date, w.close_days)), 0)
        from fact_won_deals w)
    || '/' || coalesce(cast((select max(created_date) from fact_lead_days_partner) as varchar), '')
    || '/' || coalesce(cast((select max(closed_date) from fact_won_deals) as varchar), '') as key
