# genescore: (owned by the genescore work)
