package dev.runnel.groupcoord;

/**
 * What the coordinator needs to know about the request besides its body: the API version (behaviour differs by
 * version), and the client id and host that DescribeGroups reports for a member.
 */
public record RequestContext(short apiVersion, String clientId, String clientHost) {
    public RequestContext {
        clientId = clientId == null ? "" : clientId;
        clientHost = clientHost == null ? "" : clientHost;
    }

    public static RequestContext of(int apiVersion, String clientId, String clientHost) {
        return new RequestContext((short) apiVersion, clientId, clientHost);
    }
}
