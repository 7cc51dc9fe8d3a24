# status: 403
# says: read-only
DROP ALL
