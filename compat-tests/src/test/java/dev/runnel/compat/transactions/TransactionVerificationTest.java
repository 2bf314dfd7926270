package dev.runnel.compat.transactions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.runnel.compat.support.Broker;
import dev.runnel.compat.support.Clients;
import dev.runnel.compat.support.RawKafkaConnection;
import dev.runnel.compat.support.RawProduce;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Transaction verification for V1 producers (KIP-890 part 1): a transactional batch (Produce v10 and v11, below the
 * transactions V2 versions) for a partition the producer never added to its transaction is what a late or hanging
 * request looks like; Kafka asks the coordinator and refuses it: INVALID_TXN_STATE for v10, TRANSACTION_ABORTABLE for
 * v11 (clients that know that error abort the transaction), and so does Runnel. With
 * {@code transaction.partition.verification.enable=false} (set at run time with the admin client) the batch is
 * appended, as Kafka does. The producer id and epoch come from a stock Java producer's initTransactions.
 */
class TransactionVerificationTest {
    @RegisterExtension
    static final Broker broker = Broker.create();

    @Test
    void aTransactionalBatchForAPartitionNotInTheTransactionIsRefusedUntilVerificationIsOff() throws Exception {
        String topic = Clients.uniqueTopic("verify");
        Clients.createTopic(broker, topic, 2);
        String id = "verify-" + topic;
        try (KafkaProducer<String, String> producer = Clients.producer(broker, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id));
             Admin admin = Clients.admin(broker)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "k", "in-the-transaction")).get(20, TimeUnit.SECONDS);
            TransactionDescription d = admin.describeTransactions(List.of(id)).description(id).get(20, TimeUnit.SECONDS);
            long pid = d.producerId();
            short epoch = (short) d.producerEpoch();

            // partition 1 was never added to the transaction
            short refused;
            short refusedV10;
            short accepted;
            try (RawKafkaConnection c = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
                ProduceResponseData r = RawProduce.produceTransactional(c, (short) 11, id, topic,
                        Map.of(1, RawProduce.transactionalBatchOf(pid, epoch, 0, "hanging")));
                refused = RawProduce.errorOf(r, topic, 1);
                r = RawProduce.produceTransactional(c, (short) 10, id, topic,
                        Map.of(1, RawProduce.transactionalBatchOf(pid, epoch, 0, "hanging")));
                refusedV10 = RawProduce.errorOf(r, topic, 1);
            }
            alterVerification(admin, "false");
            try (RawKafkaConnection c = RawKafkaConnection.open(broker, Duration.ofSeconds(10))) {
                ProduceResponseData r = RawProduce.produceTransactional(c, (short) 11, id, topic,
                        Map.of(1, RawProduce.transactionalBatchOf(pid, epoch, 0, "unverified")));
                accepted = RawProduce.errorOf(r, topic, 1);
            } finally {
                alterVerification(admin, null);
            }
            System.out.printf("[compat] transactional Produce to a partition outside the transaction: v11 %s, v10 %s with "
                    + "verification, v11 %s without%n", Errors.forCode(refused), Errors.forCode(refusedV10), Errors.forCode(accepted));
            assertEquals(Errors.TRANSACTION_ABORTABLE.code(), refused, "v11: refused by the coordinator's check");
            assertEquals(Errors.INVALID_TXN_STATE.code(), refusedV10, "v10: refused with the error it knows");
            assertEquals(Errors.NONE.code(), accepted, "appended when verification is off");
            producer.abortTransaction();
        }
    }

    private static void alterVerification(Admin admin, String value) throws Exception {
        ConfigResource b = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(Broker.NODE_ID));
        ConfigEntry e = new ConfigEntry("transaction.partition.verification.enable", value == null ? "" : value);
        Collection<AlterConfigOp> ops = List.of(new AlterConfigOp(e, value == null ? AlterConfigOp.OpType.DELETE
                : AlterConfigOp.OpType.SET));
        admin.incrementalAlterConfigs(Map.of(b, ops)).all().get(20, TimeUnit.SECONDS);
    }
}
