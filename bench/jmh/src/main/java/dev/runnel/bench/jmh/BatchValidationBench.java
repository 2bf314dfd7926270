package dev.runnel.bench.jmh;

import dev.runnel.wire.records.BatchValidator;
import dev.runnel.wire.records.RecordBatch;
import dev.runnel.wire.records.TimestampType;
import dev.runnel.wire.records.ValidationResult;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the log checks before it writes a producer's batch: the CRC-32C over a 16 KB batch alone, and the
 * full client validation (framing, CRC, header rules, and the walk over every record's layout).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BatchValidationBench {
    /** 15 × 1 KB (16 KB batch), or 160 × 100 B (the same batch size in small records). */
    @Param({"1024", "100"})
    public int recordSize;

    private ByteBuffer batch;
    private RecordBatch view;
    private final BatchValidator validator = BatchValidator.forClient(1_048_588, TimestampType.CREATE_TIME);

    @Setup
    public void setup() {
        batch = recordSize == 1024 ? Batches.sixteenKb() : Batches.direct(160, 100);
        view = RecordBatch.at(batch, 0);
    }

    @Benchmark
    public long crc32c() {
        return view.computeChecksum();
    }

    @Benchmark
    public ValidationResult validateClientBatch() {
        return validator.validate(batch.duplicate());
    }
}
