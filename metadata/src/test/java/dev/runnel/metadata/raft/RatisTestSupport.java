package dev.runnel.metadata.raft;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Shared helpers of the Ratis metadata-log tests: ports, waiting on conditions, a trivial listener, thread counts. */
final class RatisTestSupport {
    static {
        // Quieter Ratis logs in the test output (slf4j-simple reads these when the first logger is created).
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis", System.getProperty("ratis.test.log", "warn"));
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    }

    private RatisTestSupport() {
    }

    static void init() {
        // forces the static initializer above
    }

    /** Distinct free TCP ports on 127.0.0.1 (all sockets held open until every port was picked). */
    static List<Integer> freePorts(int n) {
        final List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                final ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                s.setReuseAddress(true);
                sockets.add(s);
            }
            final List<Integer> ports = new ArrayList<>();
            sockets.forEach(s -> ports.add(s.getLocalPort()));
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    static Map<Integer, InetSocketAddress> voters(int... ids) {
        final List<Integer> ports = freePorts(ids.length);
        final Map<Integer, InetSocketAddress> voters = new TreeMap<>();
        for (int i = 0; i < ids.length; i++) {
            voters.put(ids[i], new InetSocketAddress("127.0.0.1", ports.get(i)));
        }
        return voters;
    }

    /** Waits until {@code condition} holds, checking every few milliseconds, failing after {@code timeoutMs}. */
    static long waitFor(String what, long timeoutMs, BooleanSupplier condition) {
        final long start = System.nanoTime();
        final long deadline = start + timeoutMs * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
        return (System.nanoTime() - start) / 1_000_000L;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Names of live threads that belong to Ratis, gRPC/Netty or this module (JVM-wide Ratis timers excluded). */
    static List<String> ratisThreads() {
        final List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && isRatisThread(t.getName())) {
                names.add(t.getName());
            }
        }
        names.sort(null);
        return names;
    }

    static boolean isRatisThread(String name) {
        return name.contains("@group-") || name.startsWith("grpc-") || name.contains("-server-workers")
                || name.contains("-client-workers") || name.contains("-boss") || name.contains("-request-")
                || name.contains("-server-") || name.contains("-client-") || name.contains("-proxy")
                || name.contains("JvmPauseMonitor") || name.contains("ratis") || name.contains("Ratis")
                || name.startsWith("runnel-metadata-") || name.contains("LogAppender")
                || name.contains("SegmentedRaftLogWorker") || name.contains("StateMachineUpdater");
    }

    /** Live threads named {@code timer0..timer7}: Ratis' JVM-wide TimeoutTimer, never stopped by Ratis. */
    static int ratisSharedTimers() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().matches("timer[0-7]")) {
                n++;
            }
        }
        return n;
    }

    /** Live threads grouped by name with digits folded, for printing. */
    static Map<String, Integer> threadHistogram() {
        final Map<String, Integer> h = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive()) {
                h.merge(t.getName().replaceAll("[0-9a-fA-F]{6,}", "#").replaceAll("\\d+", "N"), 1, Integer::sum);
            }
        }
        return h;
    }

    static long usedHeapAfterGc() {
        final Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    static long jdkDirectBytes() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(pool.getName())) {
                return pool.getMemoryUsed();
            }
        }
        return -1;
    }

    /** Whether Ratis' shaded Netty allocates direct buffers without a Cleaner (then its max is a hard cap). */
    static String nettyNoCleaner() {
        try {
            return String.valueOf(Class.forName("org.apache.ratis.thirdparty.io.netty.util.internal.PlatformDependent")
                    .getMethod("useDirectBufferNoCleaner").invoke(null));
        } catch (ReflectiveOperationException e) {
            return "n/a";
        }
    }

    static long nettyMaxDirectBytes() {
        try {
            return (long) Class.forName("org.apache.ratis.thirdparty.io.netty.util.internal.PlatformDependent")
                    .getMethod("maxDirectMemory").invoke(null);
        } catch (ReflectiveOperationException e) {
            return -1;
        }
    }

    /** Resident set size of this process in bytes (Linux), -1 if unknown. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return -1;
    }

    static String mb(long bytes) {
        return bytes < 0 ? "n/a" : String.format("%.1f MB", bytes / 1048576.0);
    }

    /**
     * A trivial listener: the state is the list of applied batches; its snapshot is their concatenation (each as
     * index, length, bytes).
     */
    static final class TestListener implements MetadataLogListener {
        final String name;
        private final List<Long> indexes = new ArrayList<>();
        private final List<String> batches = new ArrayList<>();
        private final List<Long> loadedSnapshots = new ArrayList<>();
        private final List<String> leaderEvents = new ArrayList<>();
        private final List<Long> readyTerms = new ArrayList<>();
        /** System.nanoTime() of the latest onReadyLeader. */
        volatile long readyAtNanos;
        private long lastIndex = -1;
        volatile String violation;

        TestListener(String name) {
            this.name = name;
        }

        @Override
        public synchronized void onCommit(long index, long term, byte[] batch) {
            if (index <= lastIndex) {
                violation = name + ": onCommit(" + index + ") after " + lastIndex;
            }
            lastIndex = index;
            indexes.add(index);
            batches.add(string(batch));
        }

        @Override
        public synchronized byte[] snapshot() {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(batches.size());
                for (int i = 0; i < batches.size(); i++) {
                    final byte[] b = bytes(batches.get(i));
                    out.writeLong(indexes.get(i));
                    out.writeInt(b.length);
                    out.write(b);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        @Override
        public synchronized void loadSnapshot(long index, byte[] snapshot) {
            indexes.clear();
            batches.clear();
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
                final int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    indexes.add(in.readLong());
                    final byte[] b = new byte[in.readInt()];
                    in.readFully(b);
                    batches.add(string(b));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            lastIndex = index;
            loadedSnapshots.add(index);
        }

        @Override
        public synchronized void onLeaderChange(int leaderId, long term) {
            leaderEvents.add(leaderId + "@" + term);
        }

        @Override
        public synchronized void onReadyLeader(long term) {
            readyAtNanos = System.nanoTime();
            readyTerms.add(term);
        }

        @Override
        public CompletableFuture<byte[]> handleControllerRequest(byte[] request) {
            if (string(request).startsWith("fail")) {
                return CompletableFuture.failedFuture(new IllegalStateException("boom"));
            }
            return CompletableFuture.completedFuture(bytes(name + " handled " + string(request)));
        }

        synchronized List<String> batches() {
            return List.copyOf(batches);
        }

        synchronized int size() {
            return batches.size();
        }

        synchronized long lastIndex() {
            return lastIndex;
        }

        synchronized List<Long> loadedSnapshots() {
            return List.copyOf(loadedSnapshots);
        }

        synchronized List<String> leaderEvents() {
            return List.copyOf(leaderEvents);
        }

        synchronized List<Long> readyTerms() {
            return List.copyOf(readyTerms);
        }
    }
}
