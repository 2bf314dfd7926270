package dev.runnel.replication;

import dev.runnel.log.EpochEndOffset;
import dev.runnel.log.LogReadResult;
import dev.runnel.log.PartitionLog;
import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.ByteBufRecords;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.Errors;
import dev.runnel.wire.Readable;
import dev.runnel.wire.RequestHeader;
import dev.runnel.wire.ResponseHeader;
import dev.runnel.wire.message.ApiKeys;
import dev.runnel.wire.message.FetchRequestData;
import dev.runnel.wire.message.FetchResponseData;
import dev.runnel.wire.message.ListOffsetsRequestData;
import dev.runnel.wire.message.ListOffsetsResponseData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A leader broker for tests: a ServerSocket speaking Fetch v12 and ListOffsets (flexible versions) with the wire
 * classes, serving real {@link PartitionLog}s the way Kafka's leader does for a replica (reads up to the log end
 * offset, DivergingEpoch from the last fetched epoch, leader epoch checks, long polls up to MaxWaitMs), with knobs to
 * inject errors, dropped connections and corrupt records.
 */
final class FakeLeader implements AutoCloseable {

    /** One partition this leader leads. */
    static final class LeaderPartition {
        final PartitionLog log;
        volatile int leaderEpoch;

        LeaderPartition(PartitionLog log, int leaderEpoch) {
            this.log = log;
            this.leaderEpoch = leaderEpoch;
        }
    }

    /** What the leader saw of a fetched partition. */
    record FetchedPartition(String topic, int partition, long fetchOffset, int currentLeaderEpoch, int lastFetchedEpoch,
                            long logStartOffset, int partitionMaxBytes) {
    }

    /** What the leader saw of a Fetch request. */
    record FetchSeen(long nanoTime, String clientId, short version, int replicaId, int maxWaitMs, int minBytes,
                     int maxBytes, int sessionId, int sessionEpoch, List<FetchedPartition> partitions) {
    }

    /** What the leader saw of a ListOffsets request (one line per partition). */
    record ListOffsetsSeen(short version, int replicaId, String topic, int partition, int currentLeaderEpoch,
                           long timestamp) {
    }

    final int nodeId;
    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> handlers = new CopyOnWriteArrayList<>();
    private final Map<String, LeaderPartition> partitions = new ConcurrentHashMap<>();
    private final Object changes = new Object();
    private long changeCount; // changes
    private volatile boolean closed;

    /** When set, every partition of every fetch is answered with this error. */
    volatile Errors forcedError;
    /** The next this-many fetch requests are answered by closing the connection. */
    final AtomicInteger dropNextFetches = new AtomicInteger();
    /** The next this-many fetch answers carrying records have one byte of their first batch flipped. */
    final AtomicInteger corruptNextFetches = new AtomicInteger();
    final AtomicInteger connectionsAccepted = new AtomicInteger();
    final List<FetchSeen> fetches = new CopyOnWriteArrayList<>();
    final List<ListOffsetsSeen> listOffsets = new CopyOnWriteArrayList<>();

    FakeLeader(int nodeId) throws IOException {
        this.nodeId = nodeId;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.acceptor = new Thread(this::acceptLoop, "fake-leader-" + nodeId + "-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    LeaderEndpoint endpoint() {
        return new LeaderEndpoint(nodeId, "127.0.0.1", server.getLocalPort());
    }

    void lead(String topic, int partition, PartitionLog log, int leaderEpoch) {
        partitions.put(topic + "-" + partition, new LeaderPartition(log, leaderEpoch));
        changed();
    }

    LeaderPartition partition(String topic, int partition) {
        return partitions.get(topic + "-" + partition);
    }

    /** Appends as the leader (the batch stamped with the partition's leader epoch) and wakes long polls. */
    void append(String topic, int partition, ByteBuffer batch) {
        LeaderPartition lp = partition(topic, partition);
        var result = lp.log.append(batch, lp.leaderEpoch);
        if (!result.isOk()) {
            throw new IllegalStateException("leader append failed: " + result);
        }
        changed();
    }

    void setHighWatermark(String topic, int partition, long hw) {
        partition(topic, partition).log.updateHighWatermark(hw);
        changed();
    }

    void changed() {
        synchronized (changes) {
            changeCount++;
            changes.notifyAll();
        }
    }

    List<FetchSeen> fetchesOf(String topic, int partition) {
        List<FetchSeen> out = new ArrayList<>();
        for (FetchSeen f : fetches) {
            for (FetchedPartition p : f.partitions()) {
                if (p.topic().equals(topic) && p.partition() == partition) {
                    out.add(f);
                    break;
                }
            }
        }
        return out;
    }

    List<FetchedPartition> fetchedPartitions(String topic, int partition) {
        List<FetchedPartition> out = new ArrayList<>();
        for (FetchSeen f : fetches) {
            for (FetchedPartition p : f.partitions()) {
                if (p.topic().equals(topic) && p.partition() == partition) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ server

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                if (closed) {
                    s.close();
                    return;
                }
                connectionsAccepted.incrementAndGet();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "fake-leader-" + nodeId + "-conn-" + connectionsAccepted.get());
                t.setDaemon(true);
                handlers.add(t);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            OutputStream out = s.getOutputStream();
            while (!closed) {
                int size = in.readInt();
                byte[] frame = new byte[size];
                in.readFully(frame);
                Readable r = new Readable(Unpooled.wrappedBuffer(frame));
                RequestHeader header = RequestHeader.read(r);
                short version = header.apiVersion();
                ApiMessage response;
                if (header.api() == ApiKeys.FETCH) {
                    response = handleFetch(header, new FetchRequestData(r, version));
                } else if (header.api() == ApiKeys.LIST_OFFSETS) {
                    response = handleListOffsets(new ListOffsetsRequestData(r, version), version);
                } else {
                    throw new IOException("fake leader does not speak " + header.api());
                }
                if (response == null) {
                    return; // drop the connection
                }
                ByteBuf buf = Unpooled.buffer();
                buf.writeInt(0);
                ByteBufWritable w = new ByteBufWritable(buf);
                ResponseHeader.write(w, header.correlationId(), header.api().responseHeaderVersion(version));
                response.write(w, version);
                buf.setInt(0, buf.readableBytes() - 4);
                out.write(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
                out.flush();
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            // connection closed by the follower or by close(); nothing to do
        }
    }

    private FetchResponseData handleFetch(RequestHeader header, FetchRequestData req) throws IOException, InterruptedException {
        List<FetchedPartition> seen = new ArrayList<>();
        for (FetchRequestData.FetchTopic t : req.topics) {
            for (FetchRequestData.FetchPartition p : t.partitions) {
                seen.add(new FetchedPartition(t.topic, p.partition, p.fetchOffset, p.currentLeaderEpoch,
                        p.lastFetchedEpoch, p.logStartOffset, p.partitionMaxBytes));
            }
        }
        fetches.add(new FetchSeen(System.nanoTime(), header.clientId(), header.apiVersion(), req.replicaId,
                req.maxWaitMs, req.minBytes, req.maxBytes, req.sessionId, req.sessionEpoch, List.copyOf(seen)));
        if (dropNextFetches.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            return null;
        }
        long deadline = System.nanoTime() + req.maxWaitMs * 1_000_000L;
        while (true) {
            long seenChanges;
            synchronized (changes) {
                seenChanges = changeCount;
            }
            FetchResponseData resp = new FetchResponseData();
            int bytes = 0;
            boolean answerNow = false;
            for (FetchRequestData.FetchTopic t : req.topics) {
                FetchResponseData.FetchableTopicResponse tr = new FetchResponseData.FetchableTopicResponse().setTopic(t.topic);
                for (FetchRequestData.FetchPartition p : t.partitions) {
                    FetchResponseData.PartitionData pd = answer(t.topic, p);
                    if (pd.errorCode != 0 || pd.divergingEpoch.epoch != -1) {
                        answerNow = true;
                    }
                    bytes += pd.records == null ? 0 : pd.records.sizeInBytes();
                    tr.partitions.add(pd);
                }
                resp.responses.add(tr);
            }
            if (answerNow || (bytes > 0 && bytes >= req.minBytes) || System.nanoTime() - deadline >= 0 || closed) {
                if (bytes > 0 && corruptNextFetches.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                    corrupt(resp);
                }
                return resp;
            }
            synchronized (changes) {
                while (changeCount == seenChanges && !closed) {
                    long waitMs = (deadline - System.nanoTime()) / 1_000_000L;
                    if (waitMs <= 0) {
                        break;
                    }
                    changes.wait(waitMs);
                }
            }
        }
    }

    private FetchResponseData.PartitionData answer(String topic, FetchRequestData.FetchPartition p) throws IOException {
        FetchResponseData.PartitionData pd = new FetchResponseData.PartitionData()
                .setPartitionIndex(p.partition)
                .setRecords(ByteBufRecords.wrap(new byte[0]));
        LeaderPartition lp = partition(topic, p.partition);
        if (lp == null) {
            return pd.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code);
        }
        Errors forced = forcedError;
        if (forced != null) {
            return pd.setErrorCode(forced.code);
        }
        if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < lp.leaderEpoch) {
            return pd.setErrorCode(Errors.FENCED_LEADER_EPOCH.code);
        }
        if (p.currentLeaderEpoch > lp.leaderEpoch) {
            return pd.setErrorCode(Errors.UNKNOWN_LEADER_EPOCH.code);
        }
        PartitionLog log = lp.log;
        long hw = log.highWatermark();
        long start = log.logStartOffset();
        pd.setHighWatermark(hw).setLastStableOffset(hw).setLogStartOffset(start);
        if (p.lastFetchedEpoch >= 0) {
            // Kafka's Partition.readRecords
            EpochEndOffset e = log.endOffsetForEpoch(p.lastFetchedEpoch);
            if (e.endOffset() < 0 || e.leaderEpoch() < 0 || p.fetchOffset < start) {
                return pd.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code);
            }
            if (e.leaderEpoch() < p.lastFetchedEpoch || e.endOffset() < p.fetchOffset) {
                return pd.setDivergingEpoch(new FetchResponseData.EpochEndOffset()
                        .setEpoch(e.leaderEpoch()).setEndOffset(e.endOffset()));
            }
        }
        LogReadResult read = log.read(p.fetchOffset, p.partitionMaxBytes);
        if (!read.isOk()) {
            return pd.setErrorCode((short) read.errorCode());
        }
        return pd.setRecords(new ByteBufRecords(Unpooled.wrappedBuffer(read.toByteBuffer())));
    }

    private static void corrupt(FetchResponseData resp) {
        for (FetchResponseData.FetchableTopicResponse t : resp.responses) {
            for (FetchResponseData.PartitionData pd : t.partitions) {
                if (pd.records != null && pd.records.sizeInBytes() > 70) {
                    ByteBuf b = ((ByteBufRecords) pd.records).buffer();
                    byte[] copy = new byte[b.readableBytes()];
                    b.getBytes(b.readerIndex(), copy);
                    copy[65] ^= 0x5a; // inside the first batch's records: its CRC no longer matches
                    pd.setRecords(ByteBufRecords.wrap(copy));
                    return;
                }
            }
        }
    }

    private ListOffsetsResponseData handleListOffsets(ListOffsetsRequestData req, short version) {
        ListOffsetsResponseData resp = new ListOffsetsResponseData();
        for (ListOffsetsRequestData.ListOffsetsTopic t : req.topics) {
            ListOffsetsResponseData.ListOffsetsTopicResponse tr = new ListOffsetsResponseData.ListOffsetsTopicResponse()
                    .setName(t.name);
            for (ListOffsetsRequestData.ListOffsetsPartition p : t.partitions) {
                listOffsets.add(new ListOffsetsSeen(version, req.replicaId, t.name, p.partitionIndex,
                        p.currentLeaderEpoch, p.timestamp));
                ListOffsetsResponseData.ListOffsetsPartitionResponse pr =
                        new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex);
                LeaderPartition lp = partition(t.name, p.partitionIndex);
                if (lp == null) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code);
                } else if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < lp.leaderEpoch) {
                    pr.setErrorCode(Errors.FENCED_LEADER_EPOCH.code);
                } else if (p.currentLeaderEpoch > lp.leaderEpoch) {
                    pr.setErrorCode(Errors.UNKNOWN_LEADER_EPOCH.code);
                } else if (p.timestamp == PartitionLog.LATEST_TIMESTAMP) {
                    // a replica gets the log end offset, a consumer the high watermark
                    pr.setOffset(req.replicaId >= 0 ? lp.log.logEndOffset() : lp.log.highWatermark())
                            .setLeaderEpoch(lp.leaderEpoch);
                } else if (p.timestamp == PartitionLog.EARLIEST_TIMESTAMP) {
                    pr.setOffset(lp.log.logStartOffset()).setLeaderEpoch(lp.leaderEpoch);
                } else {
                    pr.setErrorCode(Errors.INVALID_REQUEST.code);
                }
                tr.partitions.add(pr);
            }
            resp.topics.add(tr);
        }
        return resp;
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        changed();
        acceptor.join(5000);
        for (Thread t : handlers) {
            t.join(5000);
        }
    }
}
