-- payback_partner_model: the model of one partner (null -> 'unassigned'). Parameters: ? (partner_id).
select coalesce(max(model), 'unassigned') from partners where partner_id = ?
