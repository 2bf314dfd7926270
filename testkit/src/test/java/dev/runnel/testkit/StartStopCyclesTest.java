package dev.runnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * 50 start/stop cycles in one JVM, each with real traffic (a stock producer writes to a topic created up front, a
 * second topic is auto-created), must leave no thread and no open file behind, and a warm start must be fast.
 * Costs about 5-10 s, most of it in the producers.
 */
class StartStopCyclesTest {
    private static final int CYCLES = 50;
    /** The target is "well under 300 ms warm"; the median is asserted against it, with CI noise in mind. */
    private static final long WARM_START_BUDGET_MS = 300;

    @Test
    @EnabledOnOs(OS.LINUX) // open files are counted in /proc/self/fd
    void fiftyCyclesLeakNoThreadsOrFiles() throws Exception {
        // Warm up: load the classes, let JVM-wide helpers (Netty's global executor, kafka-clients' statics) appear.
        cycle(-1);
        awaitQuiet(threadNames(), Duration.ofSeconds(5));
        Set<String> threadsBefore = threadNames();
        int fdsBefore = openFiles().size();

        long[] startMillis = new long[CYCLES];
        for (int i = 0; i < CYCLES; i++) {
            Set<Thread> before = Thread.getAllStackTraces().keySet();
            startMillis[i] = cycle(i);
            List<String> brokerThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && !before.contains(t) && t.getName().startsWith("runnel-"))
                    .map(Thread::getName).toList();
            assertEquals(List.of(), brokerThreads, "broker threads alive after close() in cycle " + i);
        }

        Set<String> threadsAfter = awaitQuiet(threadsBefore, Duration.ofSeconds(10));
        List<String> files = openFiles();
        String tmp = Path.of(System.getProperty("java.io.tmpdir")).toRealPath().resolve("runnel-").toString();
        List<String> runnelFiles = files.stream().filter(f -> f.startsWith(tmp)).toList();
        long[] sorted = startMillis.clone();
        Arrays.sort(sorted);
        System.out.printf("[testkit] %d cycles: start median %d ms, p90 %d ms, max %d ms; threads %d -> %d; open files %d -> %d%n",
                CYCLES, sorted[CYCLES / 2], sorted[CYCLES * 9 / 10], sorted[CYCLES - 1], threadsBefore.size(),
                threadsAfter.size(), fdsBefore, files.size());

        assertEquals(List.of(), runnelFiles, "files of stopped brokers still open");
        Set<String> newThreads = new TreeSet<>(threadsAfter);
        newThreads.removeAll(threadsBefore);
        // JVM-wide pools and tools that come and go on their own schedule, whoever uses them.
        newThreads.removeIf(n -> n.startsWith("ForkJoinPool.commonPool") || n.equals("Attach Listener")
                || n.equals("process reaper"));
        assertEquals(Set.of(), newThreads, "threads that were not there before the cycles");
        // A leak of one descriptor per cycle would show as 50; a few come and go with the JVM's own work.
        assertTrue(files.size() <= fdsBefore + 5, "open files grew from " + fdsBefore + " to " + files.size() + ": " + files);
        assertTrue(sorted[CYCLES / 2] < WARM_START_BUDGET_MS, "median warm start " + sorted[CYCLES / 2] + " ms");
    }

    /** One broker lifetime with traffic; returns how long start() took. */
    private static long cycle(int i) throws Exception {
        long t0 = System.nanoTime();
        EmbeddedRunnel kafka = EmbeddedRunnel.builder().topic("cycle").start();
        long startMillis = (System.nanoTime() - t0) / 1_000_000;
        Path dir = kafka.dataDir();
        try (KafkaProducer<String, String> producer = KafkaClients.producer(kafka.bootstrapServers())) {
            producer.send(new ProducerRecord<>("cycle", "k", "cycle " + i)).get();
            producer.send(new ProducerRecord<>("auto-created", "k", "cycle " + i)).get();
        } finally {
            kafka.close();
        }
        if (Files.exists(dir)) {
            fail("data directory " + dir + " survived close() in cycle " + i);
        }
        return startMillis;
    }

    private static Set<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .map(t -> t.getName().replaceAll("\\d+", "N")) // pools and clients number their threads per instance
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Waits until no thread exists that is not in {@code allowed} (threads that finish their last task), or the deadline. */
    private static Set<String> awaitQuiet(Set<String> allowed, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<String> now = threadNames();
        while (!allowed.containsAll(now) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
            now = threadNames();
        }
        return now;
    }

    private static List<String> openFiles() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    out.add(Files.readSymbolicLink(fd).toString());
                } catch (IOException e) {
                    // closed between list and read (e.g. the directory stream itself)
                }
            }
        }
        Collections.sort(out);
        return out;
    }
}
