# explain: (owned by the explain work)
