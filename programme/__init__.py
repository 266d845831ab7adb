"""The programme's stateful features: what reads metrics and writes the user's own tables.

Goals and their progress (goals), commission payouts and statements (payouts), quarter plans (planning), and the
weekly review's pack with its decisions (weekly, decisions, record_month). Layer order: data_layer → metrics →
programme → presentation / ui / reports / pages; nothing here imports ui, pages or reports.
"""
