-- kpis_roi: what the partners leaderboard shows, in one query: the rows of kpis (part 'kpis', in kpis.sql's
-- order) and of roi_units (part 'roi') for the same frames, which share every CTE of _scope, _costs and
-- _unit_commission. Parameters and slots: those of kpis and roi_units.
with
-- include: _scope
,
-- include: _costs
,
-- include: _unit_commission
,
-- include: _kpi_rows
,
-- include: _roi_rows
select 'kpis' as part, * from kpi_rows
union all by name
select 'roi' as part, * from roi_rows
order by part, ord
