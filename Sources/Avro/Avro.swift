// Avro: binary encoding, schemas, object container files and codecs (Apache Avro 1.11 specification).
