"""Running the Spark assets on AWS EMR: step launcher, job package, cluster spec, commands."""
