"""The numpydoc sections that ``CLRClassifier`` and ``CLRRegressor`` share (one text for both)."""

PARAMETERS = """    model : callable, keras Model or None, default=None
        The network to train, as scikeras's ``model``: a builder returning a Keras model
        (it may take ``meta``, ``compile_kwargs``, ``params`` and its own keywords, routed
        as ``model__*`` or given plainly), or a Keras model. None trains the reference
        network (:func:`skclr.reference_dnn`), unless a subclass implements scikeras's
        ``_keras_build_fn``, which then builds the network. The only positional parameter,
        as in scikeras's ``KerasClassifier(build_model, loss=...)``. If the model is
        compiled, its optimizer is kept (class and settings) and only its rate is replaced
        by the schedule. Only the reference network needs ``X`` to be 2-D.
    hidden_layer_sizes : int, tuple of int or None, default=None
        Units of the hidden Dense layers of the reference network; an int is one layer.
        None: (64, 128, 256, 128, 128).
    dropout : float, tuple of float or None, default=None
        Dropout after each hidden layer of the reference network. None is the seed's
        pattern: 0.1 after each hidden layer and 0.4 after the last, i.e.
        (0.1, 0.1, 0.1, 0.1, 0.4) by default.
    negative_slope : float or None, default=None
        LeakyReLU slope for negative inputs of the reference network; None: 0.1.

        These three default to None, the reference network's own default, so that a value
        given with a ``model`` builder is known to be the user's: it is passed to the builder
        when the builder takes a parameter of that name (as scikeras passes its unknown
        keywords; ``model__hidden_layer_sizes`` takes precedence) and refused otherwise,
        never dropped. A subclass's ``_keras_build_fn`` receives those it names and can read
        the others from ``self``. They are validated only for the reference network. The
        other parameters skclr adds (``schedule``, ``gamma``, ``decay``...) are its own: a
        builder that takes one of these names gets it only as ``model__<name>``, and a plain
        keyword set to something other than its default is refused for such a builder.
    schedule : str or keras LearningRateSchedule, default="constant"
        One of ``"constant"``, ``"time"``, ``"step"``, ``"linear"``, ``"polynomial"``,
        ``"exponential"``, ``"cosine"``, ``"cosine_restarts"``, ``"triangular"``, ``"triangular2"``,
        ``"exp_range"``, ``"one_cycle"`` (see :func:`skclr._catalogue.make_schedule`),
        or a schedule instance used as is (it cannot be combined with ``lr_finder``,
        whose result only the named schedules can use).
    learning_rate : float, default=1e-3
        Initial (or constant) rate; replaced by the range test's suggestion when
        ``lr_finder`` is set.
    base_lr, max_lr : float, default=None
        Bounds of the cyclical schedules. Default: ``max_lr = learning_rate``,
        ``base_lr = max_lr / 4``; replaced by the range test's bounds when
        ``lr_finder`` is set.
    step_size : float, default=4.0
        Half cycle in epochs (Smith: 2-10).
    gamma : float, default=0.95
        Per-epoch factor of ``"exponential"`` and of the ``"exp_range"`` amplitude.
    power : float, default=2.0
        Exponent of ``"polynomial"``.
    decay : float, default=None
        Keras-2 ``decay`` of ``"time"``; default ``learning_rate / epochs``.
    drop : float, default=0.5
        Factor of ``"step"``.
    drop_every : float, default=10.0
        Epochs between drops of ``"step"``.
    pct_start : float, default=0.3
        Rising fraction of ``"one_cycle"``.
    warmup : float, default=0.0
        Warm-up epochs of ``"cosine"``.
    end_lr : float, default=0.0
        Final rate of ``"linear"``, ``"polynomial"``, ``"cosine"``; lowest of ``"cosine_restarts"``.
    restart_every : float, default=10.0
        First period of ``"cosine_restarts"`` (SGDR), in epochs.
    restart_mult : float, default=2.0
        Each next period of ``"cosine_restarts"`` is this many times longer, >= 1.
    lr_finder : bool or LRFinder, default=False
        Run the range test in ``fit`` (``True`` uses ``LRFinder()`` defaults) and train with
        its rates: ``max_lr`` is its edge / 8 (``clr_bounds()``), ``base_lr`` the onset of the
        fall, ``learning_rate`` its suggestion. Its settings are searchable as
        ``lr_finder__num_iter`` with an ``LRFinder(...)``; an unset ``LRFinder.random_state`` follows ``random_state``. A new
        model runs it again; a warm-started fit keeps the earlier one unless its settings changed.
    cycle_momentum : bool, default=False
        Move the optimizer's momentum (Adam's ``beta_1``, SGD's and RMSprop's
        ``momentum``) opposite to the rate, as PyTorch's ``cycle_momentum=True``:
        ``schedule.momentum(step)`` of the schedules that have one (``triangular``,
        ``triangular2``, ``exp_range``, ``one_cycle``), computed in the graph at every step
        and logged as ``history_["momentum"]``. After ``fit`` the optimizer holds its own
        momentum again. SGD and RMSprop need a momentum > 0 (``optimizer__momentum=0.9``)
        so that they keep momentum slots.
    base_momentum, max_momentum : float, default=None
        Bounds of the cycled momentum (PyTorch's names). None: PyTorch's defaults of the
        schedule, 0.8/0.9 for the cyclical ones and 0.85/0.95 for ``one_cycle``.
    clipvalue : float, default=None
        Clip each gradient element to ``[-clipvalue, clipvalue]``; None keeps the clipping of
        the model's own optimizer (none for the reference network).
    weight_decay : float or None, default=None
        Decoupled weight decay (AdamW's, Loshchilov & Hutter 2019): every step multiplies each
        weight (biases too) by ``1 - rate * weight_decay``, with the schedule's rate; 0 turns
        it off. None keeps the optimizer's own (``optimizer__weight_decay``, ``"adamw"``, a
        compiled model's); when it has none, ``CLRRegressor`` gives the reference network
        ``1.0`` (see its Notes).
    n_threads : int, default=None
        TensorFlow threads per process. ``None`` uses the first positive integer in
        ``OMP_NUM_THREADS`` when there is one (joblib and Dask workers set it) and
        TensorFlow's default otherwise. Takes effect only before TensorFlow starts
        its runtime in the process. On Keras's JAX backend only 1 is honoured (before
        JAX starts); another value is ignored with a warning.
    optimizer : str or keras Optimizer class, default="adam"
        Optimizer; its other settings can be routed as ``optimizer__beta_1=...``.
        Its rate always comes from ``schedule`` (``optimizer__learning_rate`` is refused).
    loss : str, keras Loss or None, default=None
        Training loss. None trains the reference network with its task's loss: sparse
        categorical cross-entropy for ``CLRClassifier`` (binary cross-entropy for a
        multilabel ``y``, categorical for one-hot rows), mean squared error for
        ``CLRRegressor``; a builder receives ``compile_kwargs["loss"] = None``, as in
        scikeras, and must compile its model with a loss of its own.
    metrics : list, default=None
        Extra Keras metrics recorded in ``history_``.
    batch_size : int, default=32
        Samples per step.
    epochs : int, default=20
        Passes over the training data; for ``partial_fit``, the number of calls the
        schedule is planned for.
    validation_split : float, default=0.0
        Fraction held out by Keras for ``val_*`` entries in ``history_``.
    early_stopping : bool, default=False
        As scikit-learn's MLP: ``fit`` sets ``validation_fraction`` of the rows aside
        (stratified by class for ``CLRClassifier``, shuffled for ``CLRRegressor``, drawn from
        ``random_state``), scores the model on them after each epoch (``score``: accuracy,
        or R² in the target's units), stops when that score has not improved by ``tol`` for
        more than ``n_iter_no_change`` consecutive epochs, and returns the best epoch's
        weights. Everything else (classes, target scaling, the range test, the schedule's
        length) sees the training rows only. Cannot be combined with ``validation_split`` or
        ``validation_data``; ``partial_fit`` refuses it. A schedule that ends is still planned
        over ``epochs`` (see Notes). False (the default): all ``epochs`` run, and ``tol`` and
        ``n_iter_no_change`` are not used (MLP's stop on the training loss has no counterpart:
        the schedule is planned over ``epochs``).
    validation_fraction : float, default=0.1
        Share of the rows held out by ``early_stopping`` (rounded up, as ``train_test_split``);
        at least 2 rows, and each class on both sides.
    n_iter_no_change : int, default=10
        Epochs in a row without an improvement of ``tol`` that ``early_stopping`` tolerates;
        the next one stops training.
    tol : float, default=1e-4
        The improvement of the validation score that counts for ``early_stopping``.
    random_state : int, RandomState instance or None, default=None
        An int makes two fits bit-identical on the same machine; a ``RandomState``
        draws a fresh seed at each fit.
    verbose : int, default=0
        Keras verbosity.
    warm_start : bool, default=False
        Keep the trained model on the next ``fit`` (see Notes for the schedule).
    shuffle, run_eagerly, callbacks, validation_batch_size
        As in scikeras's wrappers.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes (``CLRClassifier`` only; ``CLRRegressor`` refuses it).
    **kwargs
        Routed parameters (``optimizer__*``, ``fit__*``, ``model__*``...) as in scikeras.
"""

ATTRIBUTES = """    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Per-epoch ``loss``, metrics, and ``lr`` (rate of each epoch's last step).
    schedule_ : LearningRateSchedule or float
        The schedule the optimizer ran in the last ``fit``: a float for ``constant`` (a
        constant ``ExponentialDecay`` when it follows another schedule in a warm start, since
        the optimizer's rate variable went with the first schedule).
    learning_rate_, base_lr_, max_lr_ : float
        The rates that schedule was built from, only those it uses: ``learning_rate_`` for
        the decaying schedules and ``constant``, ``base_lr_`` and ``max_lr_`` for the
        cyclical ones, ``max_lr_`` alone for ``one_cycle`` (which starts at ``max_lr / 25``);
        none for a schedule instance.
    lr_finder_ : LRFinder
        The fitted range test; only when ``lr_finder`` is set.
    loss_curve_ : list of float
        The mean training loss of each epoch, as in ``history_["loss"]`` (the regressor's on the
        training scale of ``standardize_target``). As MLP's, it goes on over ``warm_start`` fits
        (where ``history_`` starts again) and ``partial_fit`` calls of the same model, and starts
        anew with a new model.
    n_iter_ : int
        Epochs the last ``fit`` (or ``partial_fit`` call: 1) ran; fewer than ``epochs`` when
        early stopping stopped it. As MLP's, it counts the last call only.
    t_ : int
        Training samples seen: ``n_iter_`` times the training rows for each call, added up as
        ``loss_curve_`` is.
    best_loss_ : float or None
        The lowest of ``loss_curve_``; None with ``early_stopping`` (see
        ``best_validation_score_``).
    validation_scores_ : list of float or None
        With ``early_stopping``: the score on the held-out rows after each epoch, added up over
        warm starts as ``loss_curve_``; None without.
    best_validation_score_ : float or None
        With ``early_stopping``: the best score of the last ``fit``, that of the weights
        ``model_`` holds; None without.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string columns.
"""

NOTES = """    Continuing training: each ``fit`` with ``warm_start=True`` keeps the weights and the
    optimizer's state and builds the optimizer's settings (schedule, rates, clipping,
    weight decay, momentum) from the current parameters, as scikit-learn's ``MLPClassifier`` does. The
    schedules that end (``linear``, ``polynomial``, ``cosine``, ``one_cycle``) are planned
    for that fit's data and epochs from its first iteration; the others (``constant``,
    ``time``, ``step``, ``exponential``, ``cosine_restarts``, the cyclical ones, a schedule
    instance) go on from the optimizer's iteration. The range test runs again only if
    ``lr_finder`` asks for it and no earlier fit ran the same one. ``partial_fit`` keeps the
    schedule and the other optimizer settings of its first call, planned for ``epochs`` calls; a call past that end trains at
    the final rate and warns.

    Early stopping and the schedule: a schedule is planned over ``epochs``, as without early
    stopping; stopping early ends it where it is. The schedules that end (``linear``,
    ``polynomial``, ``cosine``, ``one_cycle``) anneal the rate towards ``epochs``, so a fit
    stopped halfway returns the best weights seen before that annealing, at a still high
    rate. Fewer ``epochs`` make the annealing come sooner; the cyclical schedules, ``constant``
    and the decays have no end to miss.

    Divergence: ``fit`` raises ``DivergenceError`` when an epoch's mean training loss is not
    finite or exceeds 4 times the untrained model's loss on the training data.

    Failed training: ``fit`` warns (``skclr._monitor.FailedTrainingWarning``, a ``RuntimeWarning``
    naming the epoch and the rate) when the returned model collapsed (its loss on the training
    rows, without dropout, is back above the best epoch's by more than half of the fall from the
    untrained model's loss to the best, after a fall of at least 10%), or when it learned nothing:
    that loss is not 1% below the best constant prediction's (the class prior under the default
    cross-entropy, the target's mean under the default mean squared error) nor 10% below the
    untrained model's; see :mod:`skclr._monitor`. ``partial_fit`` calls are steps of a training
    whose end the estimator does not know: they are not judged.
"""

REGRESSOR_PARAMETERS = PARAMETERS.replace("    **kwargs\n", """    standardize_target : bool, default=True
        Train on each target column less its mean, divided by its standard deviation, both
        from the training rows of the first ``fit`` (weighted by ``sample_weight``). The
        network's initial output, the default rates and the range test's loss scale assume a
        target of about unit scale: a target in its own units (prices, 2-82...) makes the same
        rates too slow to move the output to the target's mean, or unstable. A column that is
        constant (its spread within rounding of its mean) is only centred: its scale is 1.
        ``initialize`` (a pretrained model used as given) fits none. Continued training
        (``warm_start``, ``partial_fit``) keeps the scaling already fitted;
        ``validation_data=(X_val, y_val)`` is scaled with it, so ``history_`` losses are on the
        training scale. False trains on ``y`` as given.
    **kwargs\n""")
