-- db_path: one row with the file path of the connection's current database (null when in memory). No parameters.
select path from duckdb_databases() where database_name = current_database()
