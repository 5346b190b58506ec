// IcebergCore: the Apache Iceberg table format (spec v2), transactions, catalogs and file IO.
