"""Detection: the contradiction engine, pure functions over claims and the state of their metrics.

``pairs`` holds the pair rules (are two figures of one metric in conflict,
and how severe), ``histories`` the figure history of each source family, and
``engine`` the incidents that group conflicts and decide when a person is paged.
Nothing here reads or writes storage: the store hands the state in and takes the outcome.
"""
