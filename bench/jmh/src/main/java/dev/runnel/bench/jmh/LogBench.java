package dev.runnel.bench.jmh;

import dev.runnel.log.AppendResult;
import dev.runnel.log.LogConfig;
import dev.runnel.log.LogReadResult;
import dev.runnel.log.PartitionLog;
import dev.runnel.wire.records.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The partition log under the produce and fetch paths: append a producer's 16 KB batch (validation, offset
 * assignment in place, one positional write to the page cache, index upkeep; no fsync, as the broker's
 * default), and read up to 1 MB of whole batches from an offset (index lookup and header scan; the result
 * is file regions, nothing is copied).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LogBench {
    private static final int PREFILLED_BATCHES = 4096; // 64 MB to read from

    private Path dir;
    private PartitionLog appendLog;
    private PartitionLog readLog;
    private ByteBuffer batch;
    private RecordBatch view;
    private long readEnd;
    private long nextRead;

    @Setup(Level.Trial)
    public void setupRead() throws IOException {
        dir = Files.createTempDirectory("runnel-logbench");
        batch = Batches.sixteenKb();
        view = RecordBatch.at(batch, 0);
        readLog = PartitionLog.open(dir.resolve("read-0"), LogConfig.defaults());
        for (int i = 0; i < PREFILLED_BATCHES; i++) {
            appendOnce(readLog);
        }
        readEnd = readLog.logEndOffset();
        readLog.updateHighWatermark(readEnd); // everything committed (the broker's job), so read_committed reads it all
    }

    /** A fresh log per iteration, so the appends of one iteration (a few GB at most) are deleted after it. */
    @Setup(Level.Iteration)
    public void setupAppend() throws IOException {
        appendLog = PartitionLog.open(dir.resolve("append-0"), LogConfig.defaults());
    }

    @TearDown(Level.Iteration)
    public void tearDownAppend() throws IOException {
        appendLog.deleteAll();
    }

    @TearDown(Level.Trial)
    public void tearDownRead() throws IOException {
        readLog.deleteAll();
        Files.deleteIfExists(dir);
    }

    private AppendResult appendOnce(PartitionLog log) {
        view.setBaseOffset(0); // the log rewrote it to the assigned offset; a producer sends 0
        AppendResult r = log.append(batch.duplicate(), 0);
        if (!r.isOk()) {
            throw new IllegalStateException(r.errorMessage());
        }
        return r;
    }

    @Benchmark
    public AppendResult append16Kb() {
        return appendOnce(appendLog);
    }

    @Benchmark
    public LogReadResult read1Mb() {
        long offset = nextRead;
        nextRead = (nextRead + 7919) % readEnd;
        return readLog.read(offset, 1024 * 1024);
    }

    /**
     * A read_committed read of the same log: bounded by the last stable offset, plus the search of the aborted-
     * transaction indexes for the range (none here: the cost when a topic has no aborted transactions).
     */
    @Benchmark
    public int read1MbCommitted() {
        long offset = nextRead;
        nextRead = (nextRead + 7919) % readEnd;
        LogReadResult r = readLog.read(offset, 1024 * 1024, readLog.lastStableOffset());
        return r.sizeInBytes() + readLog.abortedTransactions(offset, r).size();
    }
}
