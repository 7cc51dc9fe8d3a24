# status: 403
# says: Load
LOAD <http://LISTENER/data.ttl> INTO GRAPH <https://w3id.org/spinekg/graph/kb>
