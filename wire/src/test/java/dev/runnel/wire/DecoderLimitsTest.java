package dev.runnel.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.runnel.wire.message.DeleteGroupsRequestData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/**
 * Kafka 4.4's decoder limits: an array of more than 1,000,000 elements and more than 10,000 tagged fields in one
 * struct are refused before anything is allocated for them, even when the frame has the bytes to back the count.
 */
class DecoderLimitsTest {

    /** DeleteGroups v0 (non-flexible): an int32 count, then that many empty strings (int16 length 0). */
    private static ByteBuf groupNamesV0(int count, int emptyStrings) {
        ByteBuf buf = Unpooled.buffer(4 + emptyStrings * 2);
        buf.writeInt(count);
        buf.writeZero(emptyStrings * 2);
        return buf;
    }

    @Test
    void anArrayOfOneMillionElementsIsRead() {
        DeleteGroupsRequestData msg = new DeleteGroupsRequestData();
        msg.read(new Readable(groupNamesV0(Readable.MAX_ARRAY_ELEMENTS, Readable.MAX_ARRAY_ELEMENTS)), (short) 0);
        assertEquals(1_000_000, msg.groupsNames.size());
    }

    @Test
    void anArrayOverOneMillionElementsIsRefusedThoughTheFrameHoldsThem() {
        int count = Readable.MAX_ARRAY_ELEMENTS + 1;
        ByteBuf frame = groupNamesV0(count, count); // every element really there: only the limit can refuse it
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> new DeleteGroupsRequestData().read(new Readable(frame), (short) 0));
        assertTrue(e.getMessage().contains("1000001 elements exceeds the maximum allowed size of 1000000"), e.getMessage());
        assertEquals(4, frame.readerIndex(), "refused right after the count, before reading any element");
    }

    @Test
    void aCompactArrayOverOneMillionElementsIsRefused() {
        // DeleteGroups v2 (flexible): unsigned varint count+1, elements are compact strings (1 byte each when empty)
        int count = Readable.MAX_ARRAY_ELEMENTS + 1;
        ByteBuf frame = Unpooled.buffer();
        writeVarint(frame, count + 1);
        frame.writeBytes(new byte[count]).writeByte(0);
        int start = frame.readerIndex();
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> new DeleteGroupsRequestData().read(new Readable(frame), (short) 2));
        assertTrue(e.getMessage().contains("exceeds the maximum allowed size"), e.getMessage());
        assertTrue(frame.readerIndex() - start <= 4, "refused right after the count");
    }

    /** DeleteGroups v2 with no groups and {@code tags} unknown empty tagged fields. */
    private static ByteBuf taggedFields(int tags) {
        ByteBuf buf = Unpooled.buffer();
        writeVarint(buf, 1); // empty compact array
        writeVarint(buf, tags);
        for (int i = 0; i < tags; i++) {
            writeVarint(buf, i);
            writeVarint(buf, 0);
        }
        return buf;
    }

    @Test
    void tenThousandTaggedFieldsAreRead() {
        ByteBuf frame = taggedFields(Readable.MAX_TAGGED_FIELDS);
        new DeleteGroupsRequestData().read(new Readable(frame), (short) 2);
        assertEquals(0, frame.readableBytes());
    }

    @Test
    void moreThanTenThousandTaggedFieldsAreRefused() {
        ByteBuf frame = taggedFields(Readable.MAX_TAGGED_FIELDS + 1);
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> new DeleteGroupsRequestData().read(new Readable(frame), (short) 2));
        assertTrue(e.getMessage().contains("10001 tagged fields, which exceeds the maximum allowed count of 10000"), e.getMessage());
        assertEquals(1 + 2, frame.readerIndex(), "refused right after the count");
    }

    @Test
    void aTaggedFieldCountLargerThanTheFrameIsRefused() {
        ByteBuf frame = Unpooled.buffer();
        writeVarint(frame, 1);
        writeVarint(frame, 500);
        frame.writeZero(10);
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> new DeleteGroupsRequestData().read(new Readable(frame), (short) 2));
        assertTrue(e.getMessage().contains("500 tagged fields, but only"), e.getMessage());
    }

    private static void writeVarint(ByteBuf buf, int v) {
        while ((v & ~0x7f) != 0) {
            buf.writeByte((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        buf.writeByte(v);
    }
}
