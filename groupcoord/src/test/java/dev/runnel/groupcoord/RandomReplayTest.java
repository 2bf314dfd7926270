package dev.runnel.groupcoord;

import static dev.runnel.groupcoord.GroupTestKit.ctx;
import static dev.runnel.groupcoord.GroupTestKit.done;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.wire.message.DeleteGroupsRequestData;
import dev.runnel.wire.message.OffsetDeleteRequestData;
import dev.runnel.wire.message.OffsetFetchRequestData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random commits, offset deletions, group deletions and topic deletions over many groups; at every step a
 * coordinator rebuilt from the log must answer exactly like the live one.
 */
class RandomReplayTest {
    private static final List<String> TOPICS = List.of("a", "b", "c");

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2024})
    void aRebuiltCoordinatorAlwaysAgreesWithTheLiveOne(long seed) {
        Random random = new Random(seed);
        GroupTestKit live = new GroupTestKit(GroupCoordinatorConfig.defaults().withOffsetsTopicPartitions(4));
        TOPICS.forEach(t -> live.topic(t, 3));
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            groups.add("group-" + i);
        }
        for (int step = 0; step < 300; step++) {
            String group = groups.get(random.nextInt(groups.size()));
            String topic = TOPICS.get(random.nextInt(TOPICS.size()));
            int partition = random.nextInt(3);
            int action = random.nextInt(20);
            if (action < 14) {
                live.simpleCommit(group, topic, partition, random.nextInt(1000));
            } else if (action < 17) {
                OffsetDeleteRequestData r = new OffsetDeleteRequestData().setGroupId(group);
                r.topics.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(topic).setPartitions(new ArrayList<>(List.of(
                        new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(partition)))));
                done(live.coordinator.deleteOffsets(ctx(0, "admin"), r));
            } else if (action < 19) {
                done(live.coordinator.deleteGroups(ctx(2, "admin"),
                        new DeleteGroupsRequestData().setGroupsNames(new ArrayList<>(List.of(group)))));
            } else {
                live.coordinator.onTopicDeleted(topic);
            }
            live.clock.advance(random.nextInt(1000));
            if (step % 25 == 24) {
                String before = everything(live, groups);
                GroupTestKit rebuilt = new GroupTestKit(live.config, live.log);
                TOPICS.forEach(t -> rebuilt.topic(t, 3));
                assertEquals(before, everything(rebuilt, groups), "after step " + step);
            }
        }
    }

    private static String everything(GroupTestKit kit, List<String> groups) {
        OffsetFetchRequestData fetch = new OffsetFetchRequestData();
        for (String g : groups) {
            fetch.groups.add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(g).setTopics(null));
        }
        StringBuilder states = new StringBuilder();
        for (String g : groups) {
            states.append(g).append('=').append(kit.state(g)).append(' ');
        }
        return done(kit.coordinator.fetchOffsets(ctx(8, "admin"), fetch)) + "\n" + states;
    }
}
