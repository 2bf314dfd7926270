/**
 * RecordBatch v2, the unit Kafka stores and sends: a flyweight over batch bytes
 * ({@link dev.runnel.wire.records.RecordBatch}) that reads and rewrites header fields in place,
 * a batch iterator ({@link dev.runnel.wire.records.BatchCursor}), the validation a broker does
 * before appending ({@link dev.runnel.wire.records.BatchValidator}, reporting Kafka error codes
 * from {@link dev.runnel.wire.records.ErrorCodes}), record-level reading with decompression for
 * the rare paths ({@link dev.runnel.wire.records.RecordCursor}) and a batch writer
 * ({@link dev.runnel.wire.records.BatchBuilder}).
 *
 * <p>The produce and fetch paths use only the flyweight, the cursor and the validator: they
 * allocate nothing per record and never copy batch bytes. No I/O, no threads.
 */
package dev.runnel.wire.records;
