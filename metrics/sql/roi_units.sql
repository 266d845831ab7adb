-- roi_units: one row per group with the inputs of the ROI bootstrap: n units (leads of L and won deals in
-- scope, one unit per lead), fixed costs (ledger share), sums over the contributing units (income x or a
-- commission y not 0) and, for groups with at most $max_exact of them, their x and y as lists ordered by lead
-- id. Parameters: those of _scope and _costs, $max_exact (int).
-- Slots: as kpis (a unit's period bucket is its deal date when it is a deal in scope, else its creation).
with
-- include: _scope
,
-- include: _costs
,
-- include: _unit_commission
,
-- include: _roi_rows
select * from roi_rows
