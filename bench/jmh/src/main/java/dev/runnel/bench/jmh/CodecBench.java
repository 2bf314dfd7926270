package dev.runnel.bench.jmh;

import dev.runnel.broker.network.RegionRecords;
import dev.runnel.broker.network.ResponseWriter;
import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Readable;
import dev.runnel.wire.RequestHeader;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.message.ProduceRequestData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The request and response codec on the produce and fetch paths, as the connection handler runs it: decode
 * a Produce v11 request frame (header and body; the records stay a slice of the frame), and encode a Fetch
 * v16 response whose records are a file region (only the fields are written; the region is sent zero-copy).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBench {
    private static final short PRODUCE_VERSION = 11;
    private static final short FETCH_VERSION = 16;

    private ByteBuf produceFrame;
    private FetchResponseData fetchResponse;
    private Path file;
    private FileChannel channel;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Setup
    public void setup() throws IOException {
        ByteBuffer batch = Batches.sixteenKb();
        ProduceRequestData req = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30000)
                .setTopicData(new java.util.ArrayList<>(List.of(new ProduceRequestData.TopicProduceData().setName("bench-1k")
                        .setPartitionData(new java.util.ArrayList<>(List.of(new ProduceRequestData.PartitionProduceData()
                                .setIndex(0).setRecords(new ByteBufRecords(Unpooled.wrappedBuffer(batch)))))))));
        produceFrame = Unpooled.directBuffer(batch.remaining() + 256);
        // request header v2: api key, version, correlation id, client id, no tagged fields
        produceFrame.writeShort(ApiKeys.PRODUCE.id).writeShort(PRODUCE_VERSION).writeInt(7);
        byte[] clientId = "producer-1".getBytes(StandardCharsets.UTF_8);
        produceFrame.writeShort(clientId.length).writeBytes(clientId).writeByte(0);
        req.write(new ByteBufWritable(produceFrame), PRODUCE_VERSION);

        file = Files.createTempFile("runnel-codec", ".log");
        channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel.write(Batches.sixteenKb(), 0);
        FetchResponseData.PartitionData pd = new FetchResponseData.PartitionData().setPartitionIndex(0)
                .setHighWatermark(1_000_000L).setLastStableOffset(1_000_000L).setLogStartOffset(0L).setPreferredReadReplica(-1)
                .setRecords(new RegionRecords(List.of(new RegionRecords.Region(channel, 0, (int) channel.size()))));
        fetchResponse = new FetchResponseData().setSessionId(0).setResponses(new java.util.ArrayList<>(List.of(
                new FetchResponseData.FetchableTopicResponse().setTopic("bench-1k").setTopicId(UUID.randomUUID())
                        .setPartitions(new java.util.ArrayList<>(List.of(pd))))));
    }

    @TearDown
    public void tearDown() throws IOException {
        produceFrame.release();
        channel.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public ProduceRequestData decodeProduceRequest() {
        Readable in = new Readable(produceFrame.duplicate());
        RequestHeader header = RequestHeader.read(in);
        ProduceRequestData d = new ProduceRequestData();
        d.read(in, header.apiVersion());
        return d;
    }

    @Benchmark
    public int encodeFetchResponse() {
        List<Object> pieces = ResponseWriter.encode(alloc, 7, ApiKeys.FETCH.responseHeaderVersion(FETCH_VERSION), fetchResponse,
                FETCH_VERSION);
        int n = pieces.size();
        for (Object p : pieces) {
            ReferenceCountUtil.release(p);
        }
        return n;
    }
}
