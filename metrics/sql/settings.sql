-- settings: one row per metric setting present (key, JSON value). No parameters.
select key, value
from settings
where key in ('min_leads', 'margin', 'junk_reasons', 'quality_weights', 'maturity_threshold',
    'lifecycle_active_days', 'lifecycle_dormant_days')
