package dev.runnel.metadata.controller;

import dev.runnel.wire.ApiMessage;
import dev.runnel.wire.ByteBufWritable;
import dev.runnel.wire.MalformedMessageException;
import dev.runnel.wire.Readable;
import dev.runnel.wire.message.AllocateProducerIdsRequestData;
import dev.runnel.wire.message.BrokerHeartbeatRequestData;
import dev.runnel.wire.message.BrokerRegistrationRequestData;
import dev.runnel.wire.message.CreatePartitionsRequestData;
import dev.runnel.wire.message.CreateTopicsRequestData;
import dev.runnel.wire.message.DeleteTopicsRequestData;
import dev.runnel.wire.message.IncrementalAlterConfigsRequestData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * How brokers talk to the active controller: Kafka's own request and response bodies (BrokerRegistration,
 * BrokerHeartbeat, CreateTopics, ...) in their newest version, after an int16 API key. This is the role Kafka's
 * controller listener and Envelope forwarding play; the metadata log's transport carries the bytes.
 */
public final class ControllerMessages {
    private ControllerMessages() {
    }

    public static byte[] encode(ApiMessage m) {
        ByteBuf buf = Unpooled.buffer(128);
        buf.writeShort(m.apiKey());
        m.write(new ByteBufWritable(buf), m.highestSupportedVersion());
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    /** Reads a body of the given type (a response, whose type the caller knows). */
    public static <T extends ApiMessage> T decode(byte[] bytes, T into) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        short key = buf.readShort();
        if (key != into.apiKey()) {
            throw new MalformedMessageException("Expected a controller message of API " + into.apiKey() + ", got " + key);
        }
        into.read(new Readable(buf), into.highestSupportedVersion());
        return into;
    }

    /** Reads a request of any type the controller serves. */
    public static ApiMessage decodeRequest(byte[] bytes) {
        if (bytes.length < 2) {
            throw new MalformedMessageException("Controller request shorter than its API key");
        }
        short key = (short) (((bytes[0] & 0xff) << 8) | (bytes[1] & 0xff));
        ApiMessage m = switch (key) {
            case BrokerRegistrationRequestData.API_KEY -> new BrokerRegistrationRequestData();
            case BrokerHeartbeatRequestData.API_KEY -> new BrokerHeartbeatRequestData();
            case CreateTopicsRequestData.API_KEY -> new CreateTopicsRequestData();
            case DeleteTopicsRequestData.API_KEY -> new DeleteTopicsRequestData();
            case CreatePartitionsRequestData.API_KEY -> new CreatePartitionsRequestData();
            case IncrementalAlterConfigsRequestData.API_KEY -> new IncrementalAlterConfigsRequestData();
            case AllocateProducerIdsRequestData.API_KEY -> new AllocateProducerIdsRequestData();
            case dev.runnel.wire.message.AlterPartitionReassignmentsRequestData.API_KEY -> new dev.runnel.wire.message.AlterPartitionReassignmentsRequestData();
            case dev.runnel.wire.message.ElectLeadersRequestData.API_KEY -> new dev.runnel.wire.message.ElectLeadersRequestData();
            case dev.runnel.wire.message.AlterPartitionRequestData.API_KEY -> new dev.runnel.wire.message.AlterPartitionRequestData();
            case dev.runnel.wire.message.AlterClientQuotasRequestData.API_KEY -> new dev.runnel.wire.message.AlterClientQuotasRequestData();
            case dev.runnel.wire.message.DescribeQuorumRequestData.API_KEY -> new dev.runnel.wire.message.DescribeQuorumRequestData();
            default -> throw new MalformedMessageException("The controller does not serve API key " + key);
        };
        return decode(bytes, m);
    }
}
