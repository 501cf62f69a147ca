"""The webhook receiver: MyLiveChat's signed deliveries in, the core's inbox decides."""
