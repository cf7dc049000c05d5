// IBSession
